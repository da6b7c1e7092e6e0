"""Command line shared by the peer side scripts (stdlib only).

    python side_<peer>.py WORKLOAD --n N [--variant V] [--procs 2] [--dir D]

Each side script maps a workload name (``map``, ``map-sleep``, ``mapreduce``,
``cached``, ``dask``, ``cold``) to a function ``(n, variant, procs, dir) ->
value`` that does the work and returns its result, or ``(seconds, value)``
when it times only part of its body (``cached`` times only the rerun,
``dask`` leaves out starting the cluster). Prints one JSON line: ``s`` (the
timed seconds), ``ok`` (the value is right), ``version`` (of the peer).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from _funcs import expected

Workload = Callable[[int, str, int, str], object]


def main(workloads: dict[str, Workload], version: Callable[[], str]) -> None:
    """Run the workload named on the command line; print its JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=sorted(workloads))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--variant", default="")
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--dir", default=".")
    args = parser.parse_args()
    t0 = time.perf_counter()
    out = workloads[args.workload](args.n, args.variant, args.procs, args.dir)
    seconds = time.perf_counter() - t0
    if isinstance(out, tuple):
        seconds, out = out
    want = expected("map" if args.workload in ("dask", "cold") else args.workload, args.n)
    ok = out == want
    print(json.dumps({"s": seconds, "ok": ok, "version": version()}))
    sys.stdout.flush()
