"""plait on Dask against raw Dask, and against the cf worker (issue 4, item 5).

Prints figures only (no assertions on time). Run it from the repository root::

    python benchmarks/bench_dask.py            # 10,000 jobs vs client.map; 1,000 dask vs cf
    python benchmarks/bench_dask.py --n 2000   # smaller
    python benchmarks/bench_dask.py --label    # also key_style="label" (slow)
    python benchmarks/bench_dask.py --profile  # where the client-side time goes (cProfile)

(a) N trivial jobs through plait (``worker="dask"``) on a LocalCluster of 2
single-threaded worker processes, against ``client.map`` of the same function
on the same cluster (goal: plait <= 1.5x raw Dask), each with a fresh cache:
the task defined in a module (``_dask_bench_tasks.Trivial``: workers import
it, jobs pickle it by reference) and in ``__main__`` (pickled by value, as
in a script or notebook); with ``--label`` also ``key_style="label"``
(``Node[x=1]-<checksum>``: one task group per job, instead of one per node);
(b) a 1,000-job split through dask against the cf worker with 2 processes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from _dask_bench_tasks import Trivial as ModuleTrivial

from plait import Submitter, TaskDef, python


def trivial(x: int) -> int:
    """The raw function."""
    return x + 1


@python.define
def Trivial(x: int) -> int:
    """The same function as a plait task defined in ``__main__``."""
    return x + 1


def _plait(n: int, root: Path, task: type[TaskDef] = ModuleTrivial, **worker: object) -> float:
    t0 = time.perf_counter()
    with Submitter(cache_root=root, progress=False, **worker) as sub:  # type: ignore[arg-type]
        result = sub(task().split(x=list(range(n))))
    elapsed = time.perf_counter() - t0
    assert not result.errored and result.outputs.out[-1] == n
    return elapsed


def _raw(client: object, n: int) -> float:
    t0 = time.perf_counter()
    futures = client.map(trivial, range(n), pure=False)  # type: ignore[attr-defined]
    values = client.gather(futures)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t0
    assert values[-1] == n
    del futures
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="jobs in (a) (default 10,000)")
    parser.add_argument("--split", type=int, default=1_000, help="jobs in (b) (default 1,000)")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    parser.add_argument("--profile", action="store_true", help="cProfile plait's run in (a)")
    parser.add_argument("--label", action="store_true", help="also key_style='label' in (a)")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    tmp = Path(tempfile.mkdtemp(prefix="plait-bench-dask-"))
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        _raw(client, 200)  # warm up both paths (imports on the workers)
        _plait(200, tmp / "warm", worker="dask", client=client)
        _plait(200, tmp / "warm-main", Trivial, worker="dask", client=client)

        raw, via, via_main = [], [], []
        for i in range(args.repeat):  # interleaved, so machine noise hits all three alike
            raw.append(_raw(client, args.n))
            via.append(_plait(args.n, tmp / f"a{i}", worker="dask", client=client))
            via_main.append(_plait(args.n, tmp / f"m{i}", Trivial, worker="dask", client=client))
        t0 = time.perf_counter()
        _plait(args.n, tmp / "a0", worker="dask", client=client)
        cached = time.perf_counter() - t0
        r, v, m = min(raw), min(via), min(via_main)
        print(
            f"(a) {args.n} trivial jobs on LocalCluster(2 workers x 1 thread), best of {args.repeat}:"
        )
        print(f"    raw client.map + gather       {r:7.2f} s   ({r / args.n * 1e3:.2f} ms/job)")
        print(f"    plait, task in a module       {v:7.2f} s   ({v / args.n * 1e3:.2f} ms/job)")
        print(f"    plait, task in __main__       {m:7.2f} s   ({m / args.n * 1e3:.2f} ms/job)")
        print(f"    plait / raw (module, main)    {v / r:7.2f} x {m / r:5.2f} x  (goal <= 1.5 x)")
        print(f"    plait rerun, all cached       {cached:7.2f} s")

        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            _plait(args.n, tmp / "profiled", worker="dask", client=client)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())

        dask_split = min(
            _plait(args.split, tmp / f"b-dask{i}", worker="dask", client=client)
            for i in range(args.repeat)
        )
        if args.label:  # last: 10,000 task groups slow the scheduler down afterwards
            by_label = min(
                _plait(args.n, tmp / f"n{i}", worker="dask", client=client, key_style="label")
                for i in range(args.repeat)
            )
            per_job = by_label / args.n * 1e3
            print(f"    plait key_style='label'       {by_label:7.2f} s   ({per_job:.2f} ms/job)")
            print(f"    plait label keys / raw        {by_label / r:7.2f} x")
    cf_split = min(
        _plait(args.split, tmp / f"b-cf{i}", worker="cf", n_procs=2) for i in range(args.repeat)
    )
    print(f"(b) {args.split}-job split, empty cache:")
    print(f"    dask (LocalCluster, 2 workers)  {dask_split:7.2f} s")
    print(f"    cf (2 processes)                {cf_split:7.2f} s")
    print(f"    dask / cf                       {dask_split / cf_split:7.2f} x")
    print(f"(cache roots under {tmp})")


if __name__ == "__main__":
    main()
