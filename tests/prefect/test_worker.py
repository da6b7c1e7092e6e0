"""worker="prefect" outside a flow: one host flow run, one named task run per job (issue 10)."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import prefect_server
import pytest
from prefect_tasks import Keys, MarkedSum, OneBad, RuntimeSplit, SplitSum

import plait
from plait import Submitter
from plait_prefect import PlaitJobError


def _debug(defn: plait.TaskDef, root: Path) -> plait.Result:
    with Submitter(worker="debug", cache_root=root) as sub:
        return sub(defn)


def _errors(result: plait.Result) -> list[tuple[str, str, str]]:
    return sorted((e.job, e.type, e.message) for e in result.errors)


def test_split_and_sum_are_named_task_runs_with_edges(cache: Path, tmp_path: Path) -> None:
    """Must-hold 1: Node[x=0..4] and Sum, all Completed; Sum's inputs name the Node runs."""
    defn = SplitSum(xs=[0, 1, 2, 3, 4])
    with Submitter(worker="prefect", cache_root=cache, flow_name="split-sum") as sub:
        result = sub(defn)
        flow_run_id = sub.worker.flow_run_id
    assert not result.errored
    assert result.outputs == _debug(defn, tmp_path / "debug").outputs
    runs = prefect_server.task_runs(flow_run_id, expected=6)
    by_name = {r.name: r for r in runs}
    assert sorted(by_name) == sorted([f"Node[x={i}]" for i in range(5)] + ["Sum"])
    assert {r.state_type.name for r in runs} == {"COMPLETED"}
    sum_inputs = {i.id for i in by_name["Sum"].task_inputs["job"]}
    assert sum_inputs == {by_name[f"Node[x={i}]"].id for i in range(5)}
    run = prefect_server.flow_run(flow_run_id)
    assert run.state_type.name == "COMPLETED"
    assert run.name  # the host flow run of this Submitter


def test_labels_with_braces_name_task_runs(cache: Path) -> None:
    """Task runs are named through a callable: a label with braces is not a format template."""
    defn = Keys().split(d=[{"a": 1}, {"b": 2, "c": 3}])
    expected = sorted(j.label for j in plait.compile(defn, cache).static_jobs("Keys") or [])
    assert any("{" in label for label in expected)
    with Submitter(worker="prefect", cache_root=cache) as sub:
        result = sub(defn)
        flow_run_id = sub.worker.flow_run_id
    assert result.outputs.out == [1, 2]
    assert sorted(r.name for r in prefect_server.task_runs(flow_run_id, expected=2)) == expected


def test_cached_rerun_creates_no_task_run(cache: Path) -> None:
    """Must-hold 3: the second run with the same cache_root makes no task run, same outputs."""
    from prefect_tasks import Node

    defn = SplitSum(xs=[1, 2, 3])
    with Submitter(worker="prefect", cache_root=cache) as sub:
        first = sub(defn)
        assert sub.worker.summary().startswith("plait: 4 job(s) ran as Prefect task runs")
    assert len(prefect_server.task_runs(sub.worker.flow_run_id, expected=4)) == 4
    with Submitter(worker="prefect", cache_root=cache) as sub:
        second = sub(defn)  # the whole workflow's result is in the cache
        third = sub(Node().split(x=[1, 2, 3]))  # each of its jobs is too
        assert sub.worker.summary().startswith("plait: 0 job(s) ran as Prefect task runs")
    assert second.outputs == first.outputs
    assert third.outputs.out == [1, 4, 9]
    run = prefect_server.flow_run(sub.worker.flow_run_id)
    assert run.state_type.name == "COMPLETED"
    time.sleep(2)  # task-run events would have arrived by now
    assert prefect_server.task_runs(sub.worker.flow_run_id, expected=0) == []


def test_one_failing_element_fails_one_task_run(cache: Path, tmp_path: Path) -> None:
    """Must-hold 4: one Failed task run, dependents skipped (no task run), flow run Failed."""
    defn = OneBad(xs=list(range(10)), bad=7)
    with Submitter(worker="prefect", cache_root=cache, flow_name="one-bad") as sub:
        result = sub(defn)
        flow_run_id = sub.worker.flow_run_id
    reference = _debug(defn, tmp_path / "debug")
    assert result.errored and _errors(result) == _errors(reference)
    assert sorted(result.skipped) == sorted(reference.skipped)
    assert result.outputs == reference.outputs
    runs = prefect_server.task_runs(flow_run_id, expected=10)
    assert len(runs) == 10  # no task run for the skipped Sum
    failed = [r.name for r in runs if r.state_type.name != "COMPLETED"]
    assert failed == ["FailOn[x=7]"]
    run = prefect_server.flow_run(flow_run_id)
    assert run.state_type.name == "FAILED"
    assert "FailOn[x=7]" in (run.state.message or "")


def test_retries_rerun_only_the_failed_job(cache: Path, tmp_path: Path) -> None:
    """Must-hold 4: with retries=1 a job that fails once succeeds on its second attempt."""
    marks = tmp_path / "marks"
    defn = MarkedSum(xs=[0, 1, 2, 3], marks=str(marks), flaky=2)
    with Submitter(
        worker="prefect", cache_root=cache, node_options={"Marked": {"retries": 1}}
    ) as sub:
        result = sub(defn)
        flow_run_id = sub.worker.flow_run_id
    assert not result.errored, result.errors
    assert result.outputs.out == 6
    runs = {r.name: r for r in prefect_server.task_runs(flow_run_id, expected=5)}
    assert runs["Marked[x=2]"].run_count == 2
    assert runs["Marked[x=2]"].state_type.name == "COMPLETED"
    assert all(r.run_count == 1 for n, r in runs.items() if n != "Marked[x=2]")
    executions = sorted(p.name.split("-")[0] for p in marks.iterdir())
    assert executions == ["0", "1", "2", "2", "3"]  # no finished job ran twice


def test_runtime_split_submits_jobs_as_the_run_goes(cache: Path) -> None:
    """Must-hold 5: a split over a run-time output makes task runs once its length is known."""
    with Submitter(worker="prefect", cache_root=cache) as sub:
        result = sub(RuntimeSplit(n=4))
        flow_run_id = sub.worker.flow_run_id
    assert result.outputs.out == [0, 1, 2, 3]
    runs = {r.name: r for r in prefect_server.task_runs(flow_run_id, expected=5)}
    assert sorted(runs) == [
        "Identity[x=0]",
        "Identity[x=1]",
        "Identity[x=2]",
        "Identity[x=3]",
        "Range",
    ]
    range_end = runs["Range"].end_time
    assert all(runs[f"Identity[x={i}]"].start_time >= range_end for i in range(4))
    assert {i.id for i in runs["Identity[x=0]"].task_inputs["job"]} == {runs["Range"].id}


def test_prefect_persistence_settings_are_ignored(cache: Path, tmp_path: Path) -> None:
    """Must-hold 7: with Prefect told to persist and cache, nothing is stored, nothing Cached."""
    from prefect.settings import (
        PREFECT_LOCAL_STORAGE_PATH,
        PREFECT_RESULTS_PERSIST_BY_DEFAULT,
        PREFECT_TASKS_DEFAULT_PERSIST_RESULT,
        temporary_settings,
    )
    from userflows import powers

    storage = tmp_path / "prefect-storage"
    runs = []
    with temporary_settings(
        {
            PREFECT_RESULTS_PERSIST_BY_DEFAULT: True,
            PREFECT_TASKS_DEFAULT_PERSIST_RESULT: True,
            PREFECT_LOCAL_STORAGE_PATH: storage,
        }
    ):
        for root in (cache / "a", cache / "b"):  # the same jobs twice, plait's cache empty
            with Submitter(worker="prefect", cache_root=root) as sub:
                assert sub(SplitSum(xs=[1, 2])).outputs.out == 5
                runs.append(sub.worker.flow_run_id)
        state = powers(ps=[5, 6], return_state=True)
        assert state.is_completed()
        runs.append(state.state_details.flow_run_id)
    assert not storage.exists() or not any(storage.rglob("*"))
    for flow_run_id in runs:
        for run in prefect_server.task_runs(flow_run_id, expected=3):
            assert run.state_type.name == "COMPLETED" and run.state.name == "Completed"


def test_process_pool_runner(cache: Path, tmp_path: Path) -> None:
    """ProcessPoolTaskRunner: jobs run in other processes, results come back through the cache."""
    from prefect.task_runners import ProcessPoolTaskRunner

    defn = OneBad(xs=[1, 2, 3], bad=2)
    with Submitter(
        worker="prefect", cache_root=cache, task_runner=ProcessPoolTaskRunner(max_workers=2)
    ) as sub:
        result = sub(defn)
        flow_run_id = sub.worker.flow_run_id
    reference = _debug(defn, tmp_path / "debug")
    assert result.outputs == reference.outputs
    assert _errors(result) == _errors(reference)
    names = sorted(r.name for r in prefect_server.task_runs(flow_run_id, expected=3))
    assert names == ["FailOn[x=1]", "FailOn[x=2]", "FailOn[x=3]"]


def test_plait_job_error_pickles_with_its_result() -> None:
    result = plait.Result(outputs=None, errored=True)
    err = pickle.loads(pickle.dumps(PlaitJobError("A[x=1]: ValueError: no", result)))
    assert str(err) == "A[x=1]: ValueError: no" and err.result == result


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"Node": {"cache_policy": None}}, "'cache_policy' cannot be set"),
        ({"Node": {"persist_result": True}}, "'persist_result' cannot be set"),
        ({"Node": {"name": "x"}}, "'name' cannot be set"),
        ({"Node": {"retires": 1}}, "unknown option 'retires'"),
    ],
)
def test_node_options_that_bypass_plait_are_rejected(options: dict, message: str) -> None:
    from plait_prefect import PrefectWorker

    with pytest.raises(ValueError, match=message):
        PrefectWorker(node_options=options)


COMPLETED: list[str] = []


def _on_completion(task: object, task_run: object, state: object) -> None:
    COMPLETED.append(task_run.name)  # type: ignore[attr-defined]


def test_node_options_reach_the_nodes_task_runs(cache: Path) -> None:
    """Per-node tags and hooks go on that node's task runs only."""
    with Submitter(
        worker="prefect",
        cache_root=cache,
        node_options={"Node": {"tags": ["plait-test"], "on_completion": [_on_completion]}},
    ) as sub:
        assert sub(SplitSum(xs=[1, 2])).outputs.out == 5
        flow_run_id = sub.worker.flow_run_id
    runs = {r.name: r for r in prefect_server.task_runs(flow_run_id, expected=3)}
    assert runs["Node[x=1]"].tags == ["plait-test"] and runs["Sum"].tags == []
    assert sorted(COMPLETED) == ["Node[x=1]", "Node[x=2]"]


def test_host_flow_is_named_after_the_workflow_and_counts_cache_hits(cache: Path) -> None:
    """With the driver's Worker.start/report: flow named after the workflow, cache hits logged."""
    from prefect import get_client
    from prefect_tasks import Node

    with Submitter(worker="prefect", cache_root=cache) as sub:
        sub(Node().split(x=[1, 2]))
    with Submitter(worker="prefect", cache_root=cache) as sub:
        sub(Node().split(x=[1, 2, 3]))
        worker = sub.worker
    assert "1 job(s) ran as Prefect task runs, 2 served from plait's cache" in worker.summary()
    run = prefect_server.flow_run(worker.flow_run_id)
    with get_client(sync_client=True) as client:
        assert client.read_flow(run.flow_id).name == "Node"
