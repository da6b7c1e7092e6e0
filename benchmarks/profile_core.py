"""Where the time per job goes: cProfile of an N-element trivial map.

    PYTHONPATH=core/src python benchmarks/profile_core.py --worker debug [--n 10000] [--top 25]
    PYTHONPATH=core/src python benchmarks/profile_core.py --worker cf

Runs ``Add1().split(x=range(n))`` once with an empty cache under
``--cache-dir`` (default: the system temp dir, a local disk here) and prints
the functions with the most own time (``tottime``) in microseconds per job,
plus the wall time per job. On ``debug`` everything (driver, hashing, cache,
the job itself) runs in this process; on ``cf`` this process is the driver
only (the pool's worker processes are not profiled: their share is what
``debug`` shows under ``run_job``). Figures only: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _dask_bench_tasks import Trivial

from plait import Submitter


def main() -> None:
    """Profile one run and print the top costs per job."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=("debug", "cf"), default="debug")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument(
        "--timer",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu (default): time.process_time, so time the process spends descheduled on "
        "a loaded machine is not charged to whatever call it was in; wall: perf_counter",
    )
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="plait-profile-", dir=args.cache_dir)
    worker: dict[str, object] = {"worker": args.worker}
    if args.worker == "cf":
        worker["n_procs"] = 2
    prof = cProfile.Profile(time.process_time) if args.timer == "cpu" else cProfile.Profile()
    try:
        t0 = time.perf_counter()
        prof.enable()
        with Submitter(cache_root=root, progress=False, **worker) as sub:  # type: ignore[arg-type]
            result = sub(Trivial().split(x=list(range(args.n))))
        prof.disable()
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert not result.errored and result.outputs.out[-1] == args.n
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(
        f"{args.n} jobs on {args.worker}, cache in {root}: wall {wall:.2f} s = "
        f"{wall / args.n * 1e6:.0f} us/job under the profiler; {args.timer} time in this "
        f"process {total / args.n * 1e6:.0f} us/job; load average {os.getloadavg()[0]:.1f}"
    )
    key = 2 if args.sort == "tottime" else 3
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][key], reverse=True)  # type: ignore[attr-defined]
    print(f"{'us/job own':>10} {'us/job cum':>10} {'calls/job':>9}  function")
    for (path, line, func), (_cc, ncalls, tt, ct, _callers) in rows[: args.top]:
        where = f"{os.path.basename(path)}:{line}({func})" if line else func
        print(
            f"{tt / args.n * 1e6:10.1f} {ct / args.n * 1e6:10.1f} {ncalls / args.n:9.2f}  {where}"
        )


if __name__ == "__main__":
    main()
