"""Issue 12, must-hold 1: job batches (``jobs_per_task=``), one mechanism with max_map_length."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import clear_and_resume, executions, run_dag, states, task_instances
from counting_tasks import Flaky
from test_conformance import _run

from plait_airflow import run_outputs
from plait_airflow.batches import batch_size


@pytest.mark.timeout(300)
def test_two_hundred_jobs_in_eight_batches_one_failure_then_clear_one_batch(
    dag_files: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    path = dag_files.place(
        "batched_200",
        f"""
        from counting_tasks import Flaky
        from plait_airflow import to_dag

        dag = to_dag(
            Flaky(log_dir={str(runs)!r}, bad=117).split(x=list(range(200))),
            dag_id="batched_200",
            cache_root={str(tmp_path / "cache")!r},
            jobs_per_task=25,
        )
        """,
    )
    dag = dag_files.load(path, "batched_200")
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "failed"
    tis = task_instances(dag_run)
    mapped = {mi: ti for (tid, mi), ti in tis.items() if tid == "Flaky.run"}
    assert sorted(mapped) == list(range(8))
    assert [mapped[i].rendered_map_index for i in range(8)] == [
        f"x={25 * i}…{25 * i + 24}" for i in range(8)
    ]
    assert [i for i, ti in mapped.items() if ti.state != "success"] == [4]
    # the failing element is named by its own label: its batch fails with the core's report
    # "1 job(s) failed - Flaky[x=117]: ...", and so does the run's outputs task
    captured = capfd.readouterr()
    logged = captured.out + captured.err
    assert logged.count("1 job(s) failed\n- Flaky[x=117]: ValueError: element 117 is broken") == 2
    assert executions(runs) == {str(i): 1 for i in range(200)}

    # outputs equal the debug worker's (the failed element is None on both)
    (tmp_path / "ref-runs").mkdir()
    reference = _run(
        Flaky(log_dir=str(tmp_path / "ref-runs"), bad=117).split(x=list(range(200))),
        tmp_path / "reference",
        {"worker": "debug"},
    )
    got = run_outputs(dag_run)
    assert got == {"out": [None if i == 117 else 2 * i for i in range(200)]}
    assert got == reference["outputs"]

    # fix the cause, clear the failed batch: exactly its unfinished job runs again
    (tmp_path / "fixed").touch()
    dag_run = clear_and_resume(
        dag, dag_run, [("Flaky.run", 4), ("Flaky.collect", -1), ("outputs", -1)]
    )
    assert str(dag_run.state) == "success", states(dag_run)
    assert executions(runs) == {str(i): 2 if i == 117 else 1 for i in range(200)}
    assert run_outputs(dag_run) == {"out": [2 * i for i in range(200)]}


def test_batch_size_default_and_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert batch_size(200, 25) == 25
    assert batch_size(50, None) == 1  # up to 64 task instances: one job each
    assert batch_size(200, None) == 4  # [plait] max_tasks_per_node = 64 -> 50 task instances
    monkeypatch.setenv("AIRFLOW__PLAIT__MAX_TASKS_PER_NODE", "10")
    assert batch_size(200, None) == 20
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "5")
    assert batch_size(200, 25) == 40  # never more task instances than max_map_length
