"""Concurrency of independent nodes (issue 4, item 2) and task resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dask_tasks import Huge, Sized, Small, TwoIndependent

from plait import Submitter
from plait_dask import cluster_worker_resources, jobqueue_kwargs


def _interval(path: Path) -> tuple[float, float]:
    start, end = map(float, path.read_text().split())
    return start, end


@pytest.mark.timeout(120)
def test_two_independent_nodes_run_concurrently_on_two_workers(
    client: Any, cache: Path, tmp_path: Path
) -> None:
    logs = tmp_path / "intervals"
    logs.mkdir()
    with Submitter(worker="dask", client=client, cache_root=cache) as sub:
        result = sub(TwoIndependent(seconds=1.0, log_dir=str(logs)))
    assert result.outputs.both == "A+B"
    a0, a1 = _interval(logs / "A")
    b0, b1 = _interval(logs / "B")
    assert a0 < b1 and b0 < a1, f"A ran {a0:.2f}-{a1:.2f}, B ran {b0:.2f}-{b1:.2f}: no overlap"


def test_declared_resources_become_dask_worker_resources(client: Any, cache: Path) -> None:
    from plait_dask import DaskWorker

    with DaskWorker(client=client) as worker:
        with Submitter(worker=worker, cache_root=cache) as sub:
            result = sub(Small().split(x=[1, 2, 3]))
        assert result.outputs.out == [2, 3, 4]
        keys = list(client.futures)  # the worker holds its finished jobs' futures until closed
        restrictions = client.run_on_scheduler(
            lambda dask_scheduler, keys=keys: [
                dask_scheduler.tasks[k].resource_restrictions for k in keys
            ]
        )
    assert len(restrictions) == 3
    assert all(r == {"cpus": 1, "memory": 100e6} for r in restrictions)


@pytest.mark.timeout(60)
def test_a_job_that_can_never_fit_fails_at_once(client: Any, cache: Path) -> None:
    with Submitter(worker="dask", client=client, cache_root=cache) as sub:
        result = sub(Huge().split(x=[1, 2]))
    assert result.errored
    assert len(result.errors) == 2
    message = result.errors[0].message
    assert "Huge[x=1]" in result.errors[0].job or "Huge[x=2]" in result.errors[0].job
    assert "needs {cpus=64}" in message
    assert "no worker of the Dask cluster offers" in message
    assert "--resources" in message
    assert not any(cache.glob("*/result.pkl"))


@pytest.mark.timeout(60)
def test_workers_without_the_resource_fail_clearly(cache: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
        with Submitter(worker="dask", cluster=cluster, cache_root=cache) as sub:
            result = sub(Small(x=1))
    assert result.errored
    assert "workers offer: {no resources}" in result.errors[0].message


def test_temporary_cluster_advertises_threads_and_memory(cache: Path) -> None:
    with Submitter(worker="dask", n_workers=1, threads_per_worker=2, cache_root=cache) as sub:
        assert sub(Sized(x=5)).outputs.out == 5  # cpus=2, 1 GB fit a 2-thread worker


def test_jobqueue_kwargs_size_slurm_jobs_for_the_largest_job(tmp_path: Path) -> None:
    from dask_jobqueue import SLURMCluster

    kwargs = jobqueue_kwargs(
        Sized().split(x=[1, 2]),
        queue="debug",
        walltime="00:10:00",
        job_extra_directives=["--comment=plait"],
        log_directory=str(tmp_path),
    )
    assert kwargs["cores"] == 2
    cluster = SLURMCluster(**kwargs)
    try:
        script = cluster.job_script()
        assert "#SBATCH --cpus-per-task=2" in script
        assert "#SBATCH -p debug" in script
        assert "#SBATCH --comment=plait" in script
        assert "--resources cpus=2,memory=2000000000" in script
        assert cluster_worker_resources(cluster) == {"cpus": 2, "memory": 2e9}
    finally:
        cluster.close()


@pytest.mark.timeout(60)
def test_a_jobqueue_cluster_too_small_for_a_job_fails_without_submitting(
    tmp_path: Path, cache: Path
) -> None:
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(
        **jobqueue_kwargs(Small(x=1), queue="debug", log_directory=str(tmp_path))
    )  # jobs of 1 CPU; nothing scaled, so no batch job is ever submitted
    try:
        with Submitter(worker="dask", cluster=cluster, cache_root=cache) as sub:
            result = sub(Huge(x=1))
    finally:
        cluster.close()
    assert result.errored
    assert "workers offer: {cpus=1, memory=1000000000}" in result.errors[0].message
