"""The cross-worker conformance suite: every installed worker must agree with ``debug``.

The worker list is built from what is installed: ``debug`` and ``cf`` always,
``dask`` when plait-dask is (the ``dask`` tox env), on one LocalCluster of two
worker processes shared by the session. Adapters that join add themselves to
:data:`WORKERS` here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
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
