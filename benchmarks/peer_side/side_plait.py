"""plait's side of bench_peers.py (run in the plait venv: core + plait-dask, editable)."""

from __future__ import annotations

import tempfile
import time

from _side import main


def _cache(root: str) -> str:
    return tempfile.mkdtemp(prefix="plait-", dir=root)


def _map(n: int, variant: str, procs: int, root: str, sleep: bool = False) -> object:
    from _plait_tasks import Add1, Add1Sleep

    from plait import Submitter

    task = Add1Sleep if sleep else Add1
    with Submitter(worker="cf", n_procs=procs, cache_root=_cache(root), progress=False) as sub:
        return list(sub(task().split(x=list(range(n)))).outputs.out)


def _mapreduce(n: int, variant: str, procs: int, root: str) -> object:
    from _plait_tasks import MapReduce

    from plait import Submitter

    with Submitter(worker="cf", n_procs=procs, cache_root=_cache(root), progress=False) as sub:
        return sub(MapReduce(xs=list(range(n)))).outputs.out


def _cached(n: int, variant: str, procs: int, root: str) -> tuple[float, object]:
    from _plait_tasks import MapReduce

    from plait import Submitter

    cache = _cache(root)
    with Submitter(worker="cf", n_procs=procs, cache_root=cache, progress=False) as sub:
        sub(MapReduce(xs=list(range(n))))
    t0 = time.perf_counter()
    with Submitter(worker="cf", n_procs=procs, cache_root=cache, progress=False) as sub:
        out = sub(MapReduce(xs=list(range(n)))).outputs.out
    return time.perf_counter() - t0, out


def _dask(n: int, variant: str, procs: int, root: str) -> tuple[float, object]:
    from _plait_tasks import Add1
    from distributed import Client, LocalCluster

    from plait import Submitter

    with (
        LocalCluster(
            n_workers=procs, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        with Submitter(worker="dask", client=client, cache_root=_cache(root), progress=False) as s:
            s(Add1().split(x=list(range(100))))  # warm-up: imports on the workers
        t0 = time.perf_counter()
        with Submitter(worker="dask", client=client, cache_root=_cache(root), progress=False) as s:
            out = list(s(Add1().split(x=list(range(n)))).outputs.out)
        return time.perf_counter() - t0, out


def _version() -> str:
    import importlib.metadata

    return importlib.metadata.version("plait")


if __name__ == "__main__":
    main(
        {
            "map": _map,
            "map-sleep": lambda n, v, p, d: _map(n, v, p, d, sleep=True),
            "mapreduce": _mapreduce,
            "cached": _cached,
            "dask": _dask,
            "cold": _map,
        },
        _version,
    )
