"""Fixtures of the plait-dask tests: real LocalClusters and a real single-node SLURM."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parent.parent
SLURM_SH = REPO / "scripts" / "slurm.sh"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """An empty cache root for one test."""
    root = tmp_path / "cache"
    root.mkdir()
    return root


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[object]:
    """A LocalCluster of 2 single-threaded worker processes advertising ``cpus=1``."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        resources={"cpus": 1, "memory": 500e6},
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(local_cluster: object) -> Iterator[object]:
    """A Client of :func:`local_cluster`."""
    from distributed import Client

    with Client(local_cluster) as c:
        yield c


def _slurm(cmd: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SLURM_SH), cmd], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def slurm() -> Iterator[None]:
    """A running single-node SLURM: reused if up, else started here (and stopped at the end).

    Skips, with the script's own reason, only where SLURM cannot run here
    (``scripts/slurm.sh check`` fails: not root, no apt ...).
    """
    if not SLURM_SH.exists():
        pytest.skip("scripts/slurm.sh is not in this checkout")
    if _slurm("status", 60).returncode == 0:
        yield
        return
    check = _slurm("check", 60)
    if check.returncode != 0:
        pytest.skip(f"SLURM cannot run here: {(check.stdout + check.stderr).strip()}")
    install = _slurm("install", 600)  # idempotent: quick when already installed
    assert install.returncode == 0, f"slurm.sh install failed:\n{install.stderr}"
    started = _slurm("start", 300)
    assert started.returncode == 0, f"slurm.sh start failed:\n{started.stdout}\n{started.stderr}"
    try:
        yield
    finally:
        _slurm("stop", 120)
