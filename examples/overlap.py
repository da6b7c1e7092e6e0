"""Two independent slow nodes run at the same time on two workers (the ewoksdask case).

``Left`` and ``Right`` each take a second and do not depend on each other, so on
two workers they overlap; ``Join`` waits for both. Each slow job returns when it
started and ended, so the overlap is read from the jobs themselves, not from a
stopwatch. Locally on the ``cf`` worker (2 processes) or a Dask ``LocalCluster``
(2 workers), or on SLURM through dask-jobqueue (2 batch jobs)::

    python examples/overlap.py                       # cf, 2 processes
    python examples/overlap.py --worker dask         # a LocalCluster of 2 workers
    python examples/overlap.py --slurm --queue debug # 2 SLURM batch jobs (dask-jobqueue)

Each run uses a new temporary cache (the point is to watch the jobs run).

Expected output::

    Left and Right ran at the same time: True
    joined: left+right
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from plait import Submitter, python, workflow


@python.define(outputs=["who", "started", "ended"])
def Slow(name: str, seconds: float) -> tuple[str, float, float]:
    """Sleep ``seconds``; return ``name`` and when the job started and ended."""
    started = time.time()
    time.sleep(seconds)
    return name, started, time.time()


@python.define
def Join(left: str, right: str) -> str:
    """``left+right``."""
    return f"{left}+{right}"


@workflow.define(outputs=["joined", "left_started", "left_ended", "right_started", "right_ended"])
def TwoBranches(seconds: float) -> tuple[str, float, float, float, float]:
    """Two independent slow nodes and a join."""
    left = workflow.add(Slow(name="left", seconds=seconds), name="Left")
    right = workflow.add(Slow(name="right", seconds=seconds), name="Right")
    join = workflow.add(Join(left=left.who, right=right.who))
    return join.out, left.started, left.ended, right.started, right.ended


def submitter(args: argparse.Namespace, cache_root: str) -> tuple[Submitter, Any]:
    """The Submitter for the chosen host, and the cluster to close afterwards (or None)."""
    if args.slurm:
        from dask_jobqueue import SLURMCluster

        cluster = SLURMCluster(
            cores=1,
            memory="1GB",
            processes=1,
            queue=args.queue,
            walltime="00:10:00",
            interface=args.interface,
        )
        cluster.scale(jobs=2)
        from distributed import Client

        client = Client(cluster)
        client.wait_for_workers(2, timeout=300)  # both batch jobs running before the clock starts
        return Submitter(worker="dask", client=client, cache_root=cache_root), cluster
    if args.worker == "dask":
        return Submitter(worker="dask", n_workers=2, cache_root=cache_root), None
    return Submitter(worker="cf", n_procs=2, cache_root=cache_root), None


def main() -> None:
    """Run the workflow and say whether the two slow jobs overlapped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", default="cf", choices=["cf", "dask"])
    parser.add_argument("--slurm", action="store_true", help="2 SLURM batch jobs via dask-jobqueue")
    parser.add_argument("--queue", default="debug", help="SLURM partition (with --slurm)")
    parser.add_argument("--interface", default=None, help="network interface (with --slurm)")
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()

    sub, cluster = submitter(args, tempfile.mkdtemp(prefix="plait-overlap-"))
    try:
        with sub:
            result = sub(TwoBranches(seconds=args.seconds))
    finally:
        if cluster is not None:
            cluster.close()
    result.raise_for_errors()
    out = result.outputs
    overlap = out.left_started < out.right_ended and out.right_started < out.left_ended
    print("Left and Right ran at the same time:", overlap)
    print("joined:", result.outputs.joined)


if __name__ == "__main__":
    main()
