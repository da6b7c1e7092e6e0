""".ci/run stops SLURM only if it started it (run against a fake scripts/slurm.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]


def fake_repo(tmp_path: Path, running: bool) -> tuple[Path, Path]:
    """A copy of .ci/run with a scripts/slurm.sh and tox that only log their calls."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    (repo / "scripts").mkdir()
    shutil.copy(REPO / ".ci" / "run", repo / ".ci" / "run")
    log = tmp_path / "calls.log"
    (repo / "scripts" / "slurm.sh").write_text(
        f'echo "slurm $1" >> {log}\nif [ "$1" = status ]; then exit {0 if running else 1}; fi\n'
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("pip", "tox", "apt-get"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\n')
        (bin_dir / tool).chmod(0o755)
    return repo, log


@pytest.mark.skipif(os.geteuid() != 0, reason=".ci/run manages SLURM only as root")
def test_leaves_a_running_slurm_running(tmp_path: Path) -> None:
    repo, log = fake_repo(tmp_path, running=True)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, check=True, timeout=60)
    calls = log.read_text().splitlines()
    assert "slurm status" in calls and "tox " in calls
    assert "slurm start" not in calls and "slurm stop" not in calls


@pytest.mark.skipif(os.geteuid() != 0, reason=".ci/run manages SLURM only as root")
def test_stops_the_slurm_it_started(tmp_path: Path) -> None:
    repo, log = fake_repo(tmp_path, running=False)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, check=True, timeout=60)
    calls = log.read_text().splitlines()
    assert calls.index("slurm start") < calls.index("tox ") < calls.index("slurm stop")
