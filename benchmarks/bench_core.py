"""Per-job overhead of the core and the cost of ``import plait``.

    python benchmarks/bench_core.py [--jobs 10000] [--cache-dir DIR]

Prints, for a trivial task split over ``--jobs`` elements on the debug worker
(in-process): milliseconds per job with an empty cache and with every job
cached; the pickled size of one Job (cloudpickle; the task class travels by
reference when its module is importable, by value when it lives in
``__main__``); and the wall time of ``import plait`` in a fresh interpreter (median
of 5). The cache lives under ``--cache-dir`` (default: the system temp dir;
pass a tmpfs such as /dev/shm to see plait's own share without the disk).
Figures only: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

import cloudpickle

import plait
from plait import Submitter, python


@python.define
def Add1(x: int) -> int:
    """x + 1."""
    return x + 1


def per_job(n: int, cache_dir: str | None) -> tuple[float, float]:
    """Milliseconds per job: empty cache, then fully cached."""
    root = tempfile.mkdtemp(prefix="plait-bench-", dir=cache_dir)
    defn = Add1().split(x=list(range(n)))
    timings = []
    for _ in range(2):
        t0 = time.perf_counter()
        with Submitter(worker="debug", cache_root=root) as sub:
            result = sub(defn)
        timings.append(time.perf_counter() - t0)
        assert result.outputs.out == [x + 1 for x in range(n)]
    return timings[0] / n * 1e3, timings[1] / n * 1e3


def job_size(module: str) -> int:
    """Bytes of ``cloudpickle.dumps(job)`` for one job of ``Add1`` from ``module``."""
    task = importlib.import_module(module).Add1
    jobs = plait.compile(task().split(x=[1, 2]), cache_root=tempfile.gettempdir()).static_jobs(
        "Add1"
    )
    assert jobs is not None
    return len(cloudpickle.dumps(jobs[0]))


def import_time(repeats: int = 5, bytecode: bool = True) -> float:
    """Median seconds of ``import plait`` in a fresh interpreter.

    With ``bytecode`` the sources' compiled ``.pyc`` files are used (written
    by a first import), as in an installed package; without it every source
    is compiled again (what ``PYTHONDONTWRITEBYTECODE=1`` and an editable
    install give).
    """
    code = "import time; t=time.perf_counter(); import plait; print(time.perf_counter()-t)"
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp()  # an empty bytecode cache
    else:
        subprocess.check_call([sys.executable, "-c", "import plait"], env=env)
    runs = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True, env=env))
        for _ in range(repeats)
    ]
    return statistics.median(runs)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    uncached, cached = per_job(args.jobs, args.cache_dir)
    where = args.cache_dir or tempfile.gettempdir()
    print(f"per-job overhead, {args.jobs} trivial jobs on debug, cache in {where}:")
    print(f"  empty cache : {uncached:.3f} ms/job   (goal <= 0.3)")
    print(f"  fully cached: {cached:.3f} ms/job   (goal <= 0.05)")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    by_ref, by_value = job_size("bench_core"), job_size("__main__")
    print(f"one pickled Job: {by_ref} B (task in a module; goal <= 1024)")
    print(f"  task in __main__ (class shipped by value): {by_value} B")
    print(f"import plait  : {import_time() * 1e3:.0f} ms (median of 5; goal <= 150)")
    print(f"  without bytecode (every source compiled): {import_time(bytecode=False) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
