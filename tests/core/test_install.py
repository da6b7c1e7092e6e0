"""The documented install command works in a fresh virtual environment, for each distribution.

Every doc says ``pip install ./core ./adapters/<host>`` (run from the repository's
root). This test reads that command from the docs, runs it with uv's pip (the same
resolution of local paths, much faster) in a new venv, and imports the adapter.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
UV = shutil.which("uv")

CASES = {
    "core": (
        "README.md",
        "import plait; from plait.workers import available_workers; "
        "assert set(available_workers()) == {'debug', 'cf'}",
    ),
    "dask": (
        "docs/dask.md",
        "import plait_dask; from plait.workers import available_workers; "
        "assert 'dask' in available_workers()",
    ),
    "prefect": (
        "docs/prefect.md",
        "import plait_prefect; from plait.workers import available_workers; "
        "assert 'prefect' in available_workers()",
    ),
    "airflow": ("docs/airflow.md", "import plait_airflow; from plait_airflow import to_dag"),
}


def documented_command(page: str, host: str) -> list[str]:
    """The ``pip install ./core[ ./adapters/<host>]`` command the page gives."""
    target = "./core" if host == "core" else f"./core ./adapters/{host}"
    text = (REPO / page).read_text()
    match = re.search(rf"pip install {re.escape(target)}(?=[\s`|&]|$)", text)
    assert match, f"{page} does not give `pip install {target}`"
    return match.group(0).split()


@pytest.mark.skipif(UV is None, reason="uv is not installed (tox-uv brings it)")
@pytest.mark.parametrize("host", list(CASES))
def test_documented_install_in_a_fresh_venv(host: str, tmp_path: Path) -> None:
    page, check = CASES[host]
    command = documented_command(page, host)
    venv = tmp_path / "venv"
    subprocess.run([UV, "venv", "-q", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [UV, *command, "--python", str(python)],  # uv pip install ./core ./adapters/<host>
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    subprocess.run([str(python), "-c", check], check=True, timeout=300)
    assert (venv / "bin" / "plait").exists()  # the console script comes with the core


def test_an_adapter_alone_names_what_is_missing() -> None:
    """Why the core comes first: pip cannot find plait for an adapter on its own."""
    text = (REPO / "docs" / "getting-started.md").read_text()
    assert "the core\n(`./core`) always comes first" in text
