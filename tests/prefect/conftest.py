"""Fixtures of the plait-prefect tests: one real Prefect API server for the whole run."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import prefect_server  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def prefect_api() -> Iterator[str]:
    """The API URL of the one Prefect server of this test run (started on first use)."""
    url = prefect_server.acquire()
    try:
        yield url
    finally:
        prefect_server.release()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """An empty cache root for one test."""
    root = tmp_path / "cache"
    root.mkdir()
    return root


@pytest.fixture(scope="session")
def dask_address(prefect_api: str) -> str:
    """The scheduler address of the run's one LocalCluster(2) (see prefect_server.dask_address)."""
    return prefect_server.dask_address()
