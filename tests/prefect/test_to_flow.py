"""to_flow: deployable Prefect flows whose parameters are the workflow's inputs (issue 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import prefect_server
import pytest
from prefect_tasks import Powers, SplitSum

from plait_prefect import to_flow

REPO = Path(__file__).resolve().parents[2]


def test_parameters_deployment_and_outputs() -> None:
    """Must-hold 6: parameters ps: list[int]; the entrypoint loads back; calling returns outputs."""
    from prefect.flows import load_flow_from_entrypoint
    from userflows import powers

    schema = powers.parameters.model_dump()
    assert list(schema["properties"]) == ["ps"]
    assert schema["properties"]["ps"]["type"] == "array"
    assert schema["properties"]["ps"]["items"] == {"type": "integer"}
    assert schema["required"] == ["ps"]

    deployment = powers.to_deployment(name="nightly")
    assert deployment.entrypoint.endswith("userflows.py:powers")
    loaded = load_flow_from_entrypoint(deployment.entrypoint)
    assert loaded.name == "powers" and loaded.fn.__qualname__ == "powers"
    assert loaded.parameters.model_dump()["properties"] == schema["properties"]

    state = powers(ps=["1", 2, 3], return_state=True)  # validated and coerced by Prefect
    assert state.result() == {"powers": [1, 4, 9], "total": 14}
    runs = prefect_server.task_runs(state.state_details.flow_run_id, expected=4)
    assert sorted(r.name for r in runs) == ["Node[x=1]", "Node[x=2]", "Node[x=3]", "Sum"]


def test_from_an_instance_has_no_parameters() -> None:
    from userflows import powers_123

    assert powers_123.parameters.model_dump()["properties"] == {}
    assert powers_123() == {"powers": [1, 4, 9], "total": 14}


def test_a_failing_job_fails_the_flow_run(cache: Path) -> None:
    from prefect_tasks import OneBad

    flow = to_flow(OneBad, cache_root=cache)
    state = flow(xs=[1, 2, 3], bad=2, return_state=True)
    assert state.is_failed()
    assert "FailOn[x=2]" in (state.message or "")


def test_node_options_are_checked_eagerly() -> None:
    with pytest.raises(ValueError, match="unknown node"):
        to_flow(SplitSum(xs=[1]), node_options={"Nope": {"retries": 1}})
    with pytest.raises(ValueError, match="'result_storage' cannot be set"):
        to_flow(Powers, node_options={"Node": {"result_storage": "x"}})
    with pytest.raises(ValueError, match="persist_result=True"):
        to_flow(Powers, persist_result=True)


def test_the_example_runs(tmp_path: Path, prefect_api: str) -> None:
    env = dict(os.environ, PREFECT_API_URL=prefect_api, PLAIT_CACHE_ROOT=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "prefect_flow.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "total = 1110" in done.stdout


def test_a_flow_run_retry_serves_finished_jobs_from_the_cache(cache: Path, tmp_path: Path) -> None:
    """A flow-run retry reruns only the job that failed; finished jobs come from plait's cache."""
    from prefect_tasks import MarkedSum

    marks = tmp_path / "marks"
    flow = to_flow(MarkedSum, name="marked-sum", cache_root=cache, retries=1)
    state = flow(xs=[0, 1, 2], marks=str(marks), flaky=1, return_state=True)
    assert state.is_completed() and state.result() == {"out": 3}
    executions = sorted(p.name.split("-")[0] for p in marks.iterdir())
    assert executions == ["0", "1", "1", "2"]
    runs = prefect_server.task_runs(state.state_details.flow_run_id, expected=5)
    names = sorted(r.name for r in runs)  # attempt 1: Marked x 3 (one Failed); attempt 2: x=1, Sum
    assert names == ["Marked[x=0]", "Marked[x=1]", "Marked[x=1]", "Marked[x=2]", "Sum"]
