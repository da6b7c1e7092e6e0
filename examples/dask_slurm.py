"""Run a plait workflow on a SLURM cluster through Dask (dask-jobqueue's SLURMCluster).

Each plait job becomes one Dask task (named ``Smooth[subject=sub-01]`` on the
Dask dashboard) running inside SLURM batch jobs that host Dask workers.
Run it on a login node (or anywhere ``sbatch`` works)::

    pip install ./core ./adapters/dask dask-jobqueue     # from the repository's root
    python examples/dask_slurm.py --queue debug --walltime 00:30:00 --jobs 2

The cache directory must be visible from the compute nodes (a shared file
system): every job's result is written there, and a rerun (or a job whose
Dask worker died) reads it instead of running again.

Expected output (its last two lines, with ``--subjects 4``; the batch job
script and the dashboard address come first)::

    per subject: [18.85, 9.425, 6.283, 4.712]
    mean: 9.8175
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dask_jobqueue import SLURMCluster
from distributed import Client

from plait import Submitter, python, workflow
from plait_dask import jobqueue_kwargs


@python.define(cpus=1, memory="500MB")
def Smooth(subject: str, fwhm: float) -> float:
    """Stands in for a per-subject step that needs 1 CPU and 500 MB.

    The value depends on the subject (its number), so each subject's result differs.
    """
    import math

    number = int(subject.rpartition("-")[2])
    return round(fwhm * math.pi / number, 3)


@python.define
def Mean(values: list[float]) -> float:
    """The group step: the mean over subjects."""
    return round(sum(values) / len(values), 4)


@workflow.define(outputs=["per_subject", "mean"])
def Study(subjects: list[str], fwhm: float) -> tuple[list[float], float]:
    """Smooth each subject (one SLURM-hosted Dask task each), then average."""
    smooth = workflow.add(Smooth(fwhm=fwhm).split(subject=subjects).combine("subject"))
    mean = workflow.add(Mean(values=smooth.out))
    return smooth.out, mean.out


def main() -> None:
    parser = argparse.ArgumentParser(description="plait on SLURM through Dask")
    parser.add_argument("--queue", default="debug", help="SLURM partition (sbatch -p)")
    parser.add_argument("--walltime", default="00:30:00", help="time limit of each batch job")
    parser.add_argument("--jobs", type=int, default=2, help="SLURM batch jobs to start")
    parser.add_argument("--account", default=None, help="SLURM account to charge, if any")
    parser.add_argument("--cache", default=os.path.expanduser("~/plait-cache"))
    parser.add_argument("--subjects", type=int, default=20, help="how many subjects")
    parser.add_argument("--interface", default=None, help="network interface of the workers")
    args = parser.parse_args()

    study = Study(subjects=[f"sub-{i:02d}" for i in range(1, args.subjects + 1)], fwhm=6.0)

    # Each batch job is sized for the largest plait job (here 1 CPU, 500 MB) and its
    # Dask worker advertises "--resources cpus=..,memory=.." so plait's tasks fit.
    cluster = SLURMCluster(
        **jobqueue_kwargs(
            study,
            cores=1,
            memory="1GB",
            queue=args.queue,
            walltime=args.walltime,
            account=args.account,
            job_name="plait-study",
            interface=args.interface,
            # any other #SBATCH line, e.g. "--qos=normal", "--constraint=skylake"
            job_extra_directives=["--comment=plait-study"],
            log_directory=str(Path(args.cache) / "slurm-logs"),
            # e.g. load the site's Python: job_script_prologue=["module load python/3.11"]
        )
    )
    print(cluster.job_script())
    cluster.scale(jobs=args.jobs)  # or cluster.adapt(minimum_jobs=0, maximum_jobs=10)
    try:
        with Client(cluster) as client:
            print("dashboard:", client.dashboard_link)
            with Submitter(worker="dask", client=client, cache_root=args.cache) as sub:
                result = sub(study)
    finally:
        cluster.close()
    result.raise_for_errors()
    print("per subject:", result.outputs.per_subject)
    print("mean:", result.outputs.mean)


if __name__ == "__main__":
    main()
