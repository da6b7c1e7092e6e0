"""Issue 5, item 3 and retries: split nodes as mapped task instances, failures, reruns, batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import clear_and_resume, executions, run_dag, states, task_instances

from plait_airflow import run_outputs


@pytest.mark.timeout(300)
def test_fifty_element_split_one_failure_then_clear_runs_one_job(
    dag_files: Any, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    path = dag_files.place(
        "split_fifty",
        f"""
        from counting_tasks import Flaky
        from plait_airflow import to_dag

        dag = to_dag(
            Flaky(log_dir={str(runs)!r}, bad=17).split(x=list(range(50))),
            dag_id="split_fifty",
            cache_root={str(tmp_path / "cache")!r},
        )
        """,
    )
    dag = dag_files.load(path, "split_fifty")
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "failed"
    tis = task_instances(dag_run)
    mapped = {mi: ti for (tid, mi), ti in tis.items() if tid == "Flaky.run"}
    assert sorted(mapped) == list(range(50))
    assert {mi: ti.rendered_map_index for mi, ti in mapped.items()} == {
        i: f"x={i}" for i in range(50)
    }
    assert [mi for mi, ti in mapped.items() if ti.state != "success"] == [17]
    assert mapped[17].state == "failed"
    got = states(dag_run)
    assert got[("Flaky.collect", -1)] == "success"
    assert got[("outputs", -1)] == "failed"
    assert executions(runs) == {str(i): 1 for i in range(50)}
    partial = run_outputs(dag_run)
    assert partial == {"out": [None if i == 17 else 2 * i for i in range(50)]}

    # fix the cause, clear the failed task instance (and what reads it), run on
    (tmp_path / "fixed").touch()
    dag_run = clear_and_resume(
        dag, dag_run, [("Flaky.run", 17), ("Flaky.collect", -1), ("outputs", -1)]
    )
    assert str(dag_run.state) == "success"
    assert executions(runs) == {str(i): 2 if i == 17 else 1 for i in range(50)}
    assert run_outputs(dag_run) == {"out": [2 * i for i in range(50)]}


@pytest.mark.timeout(300)
def test_runtime_split_batched_by_max_map_length_and_retried_from_cache(
    dag_files: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "5")
    runs = tmp_path / "runs"
    runs.mkdir()
    path = dag_files.place(
        "batched_retry",
        f"""
        import datetime

        from conformance_tasks import Range, Sum
        from counting_tasks import FailsOnce
        from plait import workflow
        from plait_airflow import to_dag

        @workflow.define
        def Batched(n: int, log_dir: str) -> int:
            r = workflow.add(Range(n=n))
            f = workflow.add(FailsOnce(log_dir=log_dir, bad=7).split(x=r.out).combine("x"))
            return workflow.add(Sum(xs=f.out)).out

        dag = to_dag(
            Batched(n=12, log_dir={str(runs)!r}),
            dag_id="batched_retry",
            cache_root={str(tmp_path / "cache")!r},
            node_options={{"FailsOnce": {{"retries": 1, "retry_delay": datetime.timedelta(0)}}}},
        )
        """,
    )
    dag = dag_files.load(path, "batched_retry")
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "success", states(dag_run)
    mapped = {mi: ti for (tid, mi), ti in task_instances(dag_run).items() if tid == "FailsOnce.run"}
    # 12 jobs, at most 5 mapped task instances: 4 batches of 3
    assert sorted(mapped) == [0, 1, 2, 3]
    assert mapped[0].rendered_map_index == "x=0…2"
    assert mapped[2].rendered_map_index == "x=6…8"
    assert mapped[2].try_number == 2 and mapped[0].try_number == 1
    # the retry ran only the failed job: 6 and 8 came from the cache
    assert executions(runs) == {str(i): 2 if i == 7 else 1 for i in range(12)}
    assert run_outputs(dag_run) == {"out": sum(x + 1 for x in range(12))}


@pytest.mark.timeout(300)
def test_map_indexes_name_elements_with_commas_brackets_and_quotes_exactly(
    dag_files: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from plait.labels import parse_label

    values = ["plain", "a,b", "x[1]", 'say "hi"']
    path = dag_files.place(
        "exact_labels",
        f"""
        from counting_tasks import Shout
        from plait_airflow import to_dag

        dag = to_dag(Shout(bad="a,b").split(s={values!r}), dag_id="exact_labels",
                     cache_root={str(tmp_path / "cache")!r})
        """,
    )
    dag_run = run_dag(dag_files.load(path, "exact_labels"))
    assert str(dag_run.state) == "failed"
    mapped = {mi: ti for (tid, mi), ti in task_instances(dag_run).items() if tid == "Shout.run"}
    labels = [mapped[i].rendered_map_index for i in range(4)]
    assert labels == ["s=plain", 's="a,b"', 's="x[1]"', 's="say \\"hi\\""']
    assert [parse_label(f"Shout[{label}]") for label in labels] == [
        ("Shout", (("s", v),)) for v in values
    ]
    assert [mapped[i].state for i in range(4)] == ["success", "failed", "success", "success"]
    captured = capfd.readouterr()
    assert "- Shout[s=\"a,b\"]: ValueError: cannot shout 'a,b'" in captured.out + captured.err
    assert run_outputs(dag_run) == {"out": ["PLAIN", None, "X[1]", 'SAY "HI"']}
