"""worker="prefect" inside a user's flow: the jobs are task runs of that flow run (issue 10)."""

from __future__ import annotations

from pathlib import Path

import prefect_server
from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_tasks import SplitSum

from plait import Submitter


def test_jobs_join_the_running_flow_run(cache: Path) -> None:
    """Must-hold 2: called inside a @flow, the workflow's task runs belong to that flow run."""
    from userflows import user_flow

    state = user_flow(xs=[1, 2, 3], cache_root=str(cache), return_state=True)
    assert state.is_completed()
    out = state.result()
    flow_run_id = state.state_details.flow_run_id
    assert out["total"] == 14
    assert str(out["flow_run"]) == str(flow_run_id) == out["worker"]
    runs = prefect_server.task_runs(flow_run_id, expected=4)
    assert sorted(r.name for r in runs) == ["Node[x=1]", "Node[x=2]", "Node[x=3]", "Sum"]
    assert {r.flow_run_id for r in runs} == {flow_run_id}


RUNNERS: list[ThreadPoolTaskRunner] = []


class _RecordingRunner(ThreadPoolTaskRunner):  # type: ignore[misc]
    """A thread runner that records being entered, submitted to and closed."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.events: list[str] = []

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.events.append("enter")
        return super().__enter__()

    def submit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.events.append("submit")
        return super().submit(*args, **kwargs)

    def __exit__(self, *exc):  # type: ignore[no-untyped-def]
        self.events.append("exit")
        return super().__exit__(*exc)

    def duplicate(self):  # type: ignore[no-untyped-def]
        return type(self)()


@flow(persist_result=False)
def flow_with_own_runner(cache_root: str) -> int:
    runner = _RecordingRunner()
    RUNNERS.append(runner)
    with Submitter(worker="prefect", cache_root=cache_root, task_runner=runner) as sub:
        return int(sub(SplitSum(xs=[4, 5])).outputs.out)


def test_a_runner_given_in_a_flow_is_used_and_closed(cache: Path) -> None:
    state = flow_with_own_runner(cache_root=str(cache), return_state=True)
    assert state.result() == 41
    events = RUNNERS[-1].events
    assert events[0] == "enter" and events[-1] == "exit" and events.count("submit") == 3
    runs = prefect_server.task_runs(state.state_details.flow_run_id, expected=3)
    assert len(runs) == 3
