"""The cross-worker conformance suite: every installed worker must agree with ``debug``.

The worker list is built from what is installed: ``debug`` and ``cf`` always,
``dask`` when plait-dask is (the ``dask`` tox env), on one LocalCluster of two
worker processes shared by the session; ``prefect`` (its default thread runner)
and ``prefect-dask`` (prefect-dask's DaskTaskRunner on a LocalCluster of two
worker processes) when plait-prefect is (the ``prefect`` tox env), on the one
Prefect API server of the test run (tests/prefect/prefect_server.py). Adapters
that join add themselves to :data:`WORKERS` here.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

WorkerOptions = Callable[[], dict[str, Any]]


def _dask_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"worker": "dask", "client": request.getfixturevalue("conformance_dask_client")}


#: name -> how to build the Submitter keyword arguments for it
WORKERS: dict[str, Callable[[pytest.FixtureRequest], dict[str, Any]]] = {
    "debug": lambda request: {"worker": "debug"},
    "cf": lambda request: {"worker": "cf", "n_procs": 2},
}
if importlib.util.find_spec("plait_dask") is not None:
    WORKERS["dask"] = _dask_options


def _prefect_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    request.getfixturevalue("conformance_prefect_api")
    return {"worker": "prefect"}


def _prefect_dask_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    import prefect_server
    from prefect_dask import DaskTaskRunner

    request.getfixturevalue("conformance_prefect_api")
    return {
        "worker": "prefect",
        "task_runner": DaskTaskRunner(address=prefect_server.dask_address()),
    }


if importlib.util.find_spec("plait_prefect") is not None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "prefect"))
    WORKERS["prefect"] = _prefect_options
    if importlib.util.find_spec("prefect_dask") is not None:
        WORKERS["prefect-dask"] = _prefect_dask_options


@pytest.fixture(scope="session")
def conformance_prefect_api() -> Iterator[str]:
    """The one Prefect API server of the test run (shared with tests/prefect)."""
    import prefect_server

    url = prefect_server.acquire()
    try:
        yield url
    finally:
        prefect_server.release()


@pytest.fixture(scope="session")
def conformance_dask_client() -> Iterator[Any]:
    """A distributed Client on a LocalCluster of 2 single-threaded worker processes."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            resources={"cpus": 1},
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(params=list(WORKERS))
def worker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Submitter keyword arguments for each installed worker in turn."""
    return WORKERS[request.param](request)
