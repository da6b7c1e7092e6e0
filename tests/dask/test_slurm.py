"""plait on a real single-node SLURM through dask-jobqueue's SLURMCluster (issue 4, item 3).

Uses the project's SLURM (``scripts/slurm.sh``; the ``slurm`` fixture starts it
if it is not up). Two batch jobs of one core each: never more than the
machine's 2 cores.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest
from dask_tasks import WhereAmI

from plait import Submitter
from plait_dask import jobqueue_kwargs

HERE = Path(__file__).parent


def _queued(job_name: str) -> list[str]:
    out = subprocess.run(
        ["squeue", "-h", "-n", job_name, "-o", "%i %T"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()


@pytest.mark.slurm
@pytest.mark.timeout(600)
def test_split_runs_inside_slurm_jobs(slurm: None, cache: Path, tmp_path: Path) -> None:
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    job_name = f"plait-test-{uuid.uuid4().hex[:6]}"
    defn = WhereAmI(seconds=0.3).split(x=list(range(20)))
    kwargs = jobqueue_kwargs(
        defn,
        cores=1,
        memory="1GB",
        queue="debug",
        walltime="00:10:00",
        job_name=job_name,
        interface="lo",
        log_directory=str(tmp_path / "logs"),
        job_extra_directives=["--comment=plait-dask-test"],
        # the batch jobs' Python must import the tests' task module
        job_script_prologue=[f"export PYTHONPATH={HERE}:{HERE.parent / 'conformance'}"],
    )
    cluster = SLURMCluster(**kwargs)
    try:
        assert "#SBATCH -p debug" in cluster.job_script()
        cluster.scale(jobs=2)
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=240)
            assert len(_queued(job_name)) == 2
            with Submitter(worker="dask", client=client, cache_root=cache) as sub:
                result = sub(defn)
    finally:
        cluster.close()

    assert not result.errored, result.errors
    assert result.outputs.value == [x * x for x in range(20)]
    job_ids = set(result.outputs.slurm_job_id)
    assert "" not in job_ids, "a job ran outside SLURM"
    assert len(job_ids) == 2, f"expected the jobs spread over 2 SLURM jobs, got {job_ids}"

    deadline = time.monotonic() + 30
    while _queued(job_name) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _queued(job_name) == [], "SLURM jobs still queued after the cluster closed"
