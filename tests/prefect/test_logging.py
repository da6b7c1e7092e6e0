"""Jobs log to their own task runs; a failure logs plait's traceback there (issue 10)."""

from __future__ import annotations

import time
from pathlib import Path

import prefect_server
from prefect_tasks import Shout

from plait import Submitter


def _logs(task_run_id: object, needle: str, timeout: float = 60.0) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterTaskRunId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(
                log_filter=LogFilter(task_run_id=LogFilterTaskRunId(any_=[task_run_id]))
            )
            messages = [log.message for log in logs]
            if any(needle in m for m in messages) or time.monotonic() > deadline:
                return messages
            time.sleep(0.5)


def test_jobs_log_to_their_task_runs(cache: Path) -> None:
    with Submitter(worker="prefect", cache_root=cache) as sub:
        result = sub(Shout().split(x=[3, -1]))
        flow_run_id = sub.worker.flow_run_id
    assert result.errored and [e.job for e in result.errors] == ["Shout[x=-1]"]
    runs = {r.name: r for r in prefect_server.task_runs(flow_run_id, expected=2)}
    assert any("shout 3" in m for m in _logs(runs["Shout[x=3]"].id, "shout 3"))
    failed = _logs(runs["Shout[x=-1]"].id, "Traceback")
    assert any("shout -1" in m for m in failed)
    assert any("ValueError: negative -1" in m and "Traceback" in m for m in failed)
    state = runs["Shout[x=-1]"].state
    assert (
        state.message.count("\n") == 0 and "Shout[x=-1]: ValueError: negative -1" in state.message
    )
