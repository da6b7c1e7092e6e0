"""worker="prefect" on prefect-dask's DaskTaskRunner, resources as Dask worker resources."""

from __future__ import annotations

import time
from pathlib import Path

import prefect_server
from prefect_tasks import Huge, Small

from plait import Submitter


def test_a_job_that_can_never_fit_fails_at_once(cache: Path, dask_address: str) -> None:
    """Must-hold 8: cpus=64 on workers offering cpus=1 fails at once, saying why."""
    from prefect_dask import DaskTaskRunner

    started = time.monotonic()
    with Submitter(
        worker="prefect", cache_root=cache, task_runner=DaskTaskRunner(address=dask_address)
    ) as sub:
        result = sub(Huge().split(x=[1, 2]))
        small = sub(Small().split(x=[1, 2]))
        flow_run_id = sub.worker.flow_run_id
    assert time.monotonic() - started < 120
    assert result.errored and len(result.errors) == 2
    assert all("cpus=64" in e.message and "could never run" in e.message for e in result.errors)
    assert small.outputs.out == [2, 3]  # jobs that fit run, with their resources
    runs = prefect_server.task_runs(flow_run_id, expected=2)
    assert sorted(r.name for r in runs) == ["Small[x=1]", "Small[x=2]"]  # no run for Huge
