"""Raw ``concurrent.futures``: the floor for a local process pool (stdlib only).

Variants: ``chunk1`` (``ProcessPoolExecutor.map`` with chunksize 1: one
pickled call per element, as a scheduler that tracks each job pays) and
``chunked`` (chunksize ``ceil(n / (4 * procs))``, batches of calls). The
reduce runs in this process over the mapped values.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor

import _funcs
from _side import main


def _values(n: int, variant: str, procs: int, sleep: bool = False) -> list[int]:
    chunk = math.ceil(n / (4 * procs)) if variant == "chunked" else 1
    fn = _funcs.add1_sleep if sleep else _funcs.add1
    with ProcessPoolExecutor(procs) as pool:
        return list(pool.map(fn, range(n), chunksize=chunk))


def _version() -> str:
    import platform

    return "Python " + platform.python_version()


if __name__ == "__main__":
    main(
        {
            "map": lambda n, v, p, d: _values(n, v, p),
            "map-sleep": lambda n, v, p, d: _values(n, v, p, sleep=True),
            "mapreduce": lambda n, v, p, d: _funcs.total(_values(n, v, p)),
            "cold": lambda n, v, p, d: _values(n, v, p),
        },
        _version,
    )
