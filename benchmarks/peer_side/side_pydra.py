"""Pydra 1.0a12's side of bench_peers.py (run in the pydra venv; cf worker, ``n_procs``)."""

from __future__ import annotations

import os
import tempfile
import time

import _funcs
from _side import main


def _tasks():  # type: ignore[no-untyped-def]
    from pydra.compose import python, workflow

    add1 = python.define(_funcs.add1)
    add1_sleep = python.define(_funcs.add1_sleep)
    total = python.define(_funcs.total)

    @workflow.define
    def MapReduce(xs: list[int]) -> int:
        mapped = workflow.add(add1().split(x=xs).combine("x"), name="mapped")
        return workflow.add(total(y=mapped.out), name="total").out

    return add1, add1_sleep, MapReduce


def _submit(defn, procs: int, cache: str):  # type: ignore[no-untyped-def]
    from pydra.engine.submitter import Submitter

    with Submitter(worker="cf", n_procs=procs, cache_root=cache) as sub:
        result = sub(defn)
    if result.errored:
        raise SystemExit(f"Pydra run errored; see {cache}")
    return result.outputs.out


def _map(n: int, variant: str, procs: int, root: str, sleep: bool = False) -> object:
    add1, add1_sleep, _ = _tasks()
    task = (add1_sleep if sleep else add1)().split(x=list(range(n)))
    return list(_submit(task, procs, tempfile.mkdtemp(prefix="pydra-", dir=root)))


def _mapreduce(n: int, variant: str, procs: int, root: str) -> object:
    *_, wf = _tasks()
    return _submit(wf(xs=list(range(n))), procs, tempfile.mkdtemp(prefix="pydra-", dir=root))


def _cached(n: int, variant: str, procs: int, root: str) -> tuple[float, object]:
    *_, wf = _tasks()
    cache = tempfile.mkdtemp(prefix="pydra-", dir=root)
    _submit(wf(xs=list(range(n))), procs, cache)
    t0 = time.perf_counter()
    out = _submit(wf(xs=list(range(n))), procs, cache)
    return time.perf_counter() - t0, out


def _version() -> str:
    import importlib.metadata

    return importlib.metadata.version("pydra")


if __name__ == "__main__":
    os.environ.setdefault("NO_ET", "1")
    main(
        {
            "map": _map,
            "map-sleep": lambda n, v, p, d: _map(n, v, p, d, sleep=True),
            "mapreduce": _mapreduce,
            "cached": _cached,
            "cold": _map,
        },
        _version,
    )
