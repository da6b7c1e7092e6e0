"""Raw Dask's side of bench_peers.py (run in the dask venv: distributed).

``client.map`` of the plain function (``pure=False``) + ``gather`` on a
LocalCluster of ``procs`` single-threaded worker processes; the reduce is one
``client.submit`` over the mapped futures. Starting the cluster is outside
the time (a warm-up map runs first); ``mapreduce`` includes it, as the other
peers include starting their pools.
"""

from __future__ import annotations

import time

import _funcs
from _side import main


def _cluster(procs: int):  # type: ignore[no-untyped-def]
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=procs, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


def _mapreduce(n: int, variant: str, procs: int, root: str) -> object:
    from distributed import Client

    with _cluster(procs) as cluster, Client(cluster) as client:
        mapped = client.map(_funcs.add1, range(n), pure=False)
        return client.submit(_funcs.total_args, *mapped, pure=False).result()


def _map(n: int, variant: str, procs: int, root: str) -> tuple[float, object]:
    from distributed import Client

    with _cluster(procs) as cluster, Client(cluster) as client:
        client.gather(client.map(_funcs.add1, range(100), pure=False))  # warm-up
        t0 = time.perf_counter()
        values = client.gather(client.map(_funcs.add1, range(n), pure=False))
        return time.perf_counter() - t0, values


def _version() -> str:
    import importlib.metadata

    return "distributed " + importlib.metadata.version("distributed")


if __name__ == "__main__":
    main({"mapreduce": _mapreduce, "dask": _map}, _version)
