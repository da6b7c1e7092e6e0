"""Parsl's side of bench_peers.py (run in the parsl venv).

A HighThroughputExecutor with ``procs`` workers on this node (LocalProvider,
one block), the functions as ``python_app``s, one app call per element; the
reduce is a ``python_app`` over the mapped futures. Loading the config (which
starts the interchange and the workers) and cleaning up are inside the time,
as plait's and pipefunc's pool start is.
"""

from __future__ import annotations

import os
import tempfile

import _funcs
from _side import main


def _load(procs: int, root: str):  # type: ignore[no-untyped-def]
    import parsl
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    run_dir = tempfile.mkdtemp(prefix="parsl-", dir=root)
    config = Config(
        executors=[
            HighThroughputExecutor(
                label="htex",
                address="127.0.0.1",
                max_workers_per_node=procs,
                worker_logdir_root=run_dir,
                provider=LocalProvider(init_blocks=1, max_blocks=1),
            )
        ],
        run_dir=run_dir,
        usage_tracking=0,
        initialize_logging=False,
    )
    return parsl.load(config)


def _map(n: int, variant: str, procs: int, root: str, sleep: bool = False) -> object:
    from parsl import python_app

    app = python_app(_funcs.add1_sleep if sleep else _funcs.add1)
    with _load(procs, root):
        futures = [app(x) for x in range(n)]
        return [f.result() for f in futures]


def _mapreduce(n: int, variant: str, procs: int, root: str) -> object:
    from parsl import python_app

    app, reduce = python_app(_funcs.add1), python_app(_funcs.total_args)
    with _load(procs, root):
        return reduce(*[app(x) for x in range(n)]).result()


def _version() -> str:
    import importlib.metadata

    return importlib.metadata.version("parsl")


if __name__ == "__main__":
    os.environ.setdefault("PARSL_TRACKING", "false")
    main(
        {
            "map": _map,
            "map-sleep": lambda n, v, p, d: _map(n, v, p, d, sleep=True),
            "mapreduce": _mapreduce,
            "cold": _map,
        },
        _version,
    )
