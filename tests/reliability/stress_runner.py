"""One process of the lock stress test: run every job of a split through ``run_job``.

    python stress_runner.py CACHE_ROOT N SEED DELAY_MAX [LEASE]

Jobs run in an order shuffled by SEED; random sleeps up to DELAY_MAX seconds
are injected at the steps of the lock protocol (after making the job dir,
between reading a lock and acting on it, while creating a lock or a claim).
Prints one line per call that raised; exits 1 if any did or a result was wrong.
"""

from __future__ import annotations

import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from rel_tasks import Square

import plait.locks as locks
import plait.run as run
from plait import compile, run_job


def _delayed(func, rng: random.Random, delay_max: float):  # type: ignore[no-untyped-def]
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0, delay_max))
        out = func(*args, **kwargs)
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0, delay_max))
        return out

    return wrapper


def main() -> int:
    root, n, seed, delay_max = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    if len(sys.argv) > 5:
        locks.LOCK_LEASE = float(sys.argv[5])
    rng = random.Random(seed)
    if delay_max > 0:
        locks._inspect = _delayed(locks._inspect, rng, delay_max)  # type: ignore[assignment]
        locks._create = _delayed(locks._create, rng, delay_max)  # type: ignore[assignment]
        run.make_job_dir = _delayed(run.make_job_dir, rng, delay_max)  # type: ignore[assignment]
    graph = compile(Square().split(x=list(range(n))), cache_root=root)
    (name,) = graph.nodes
    jobs, _ = graph.expand(name, {})
    rng.shuffle(jobs)
    bad = 0
    for job in jobs:
        try:
            result = run_job(job)
        except BaseException:
            bad += 1
            print("RAISED", job.label, traceback.format_exc().replace("\n", " | "), flush=True)
            continue
        x = job.definition.x
        if result.errored or result.outputs != {"out": x * x}:
            bad += 1
            print("WRONG", job.label, result.outputs, result.errors, flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
