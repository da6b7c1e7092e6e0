"""Issue 12, must-hold 5: rendering a subset of a workflow with ``select=``/``exclude=``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import executions, run_dag, states

from plait_airflow import run_outputs, to_dag

WORKFLOW = """
from counting_tasks import CountedInc, CountedSum, Flaky
from plait import workflow
from plait_airflow import to_dag


@workflow.define
def Chain(xs: list[int], log_dir: str) -> int:
    f = workflow.add(Flaky(log_dir=log_dir).split(x=xs).combine("x"))
    total = workflow.add(CountedSum(xs=f.out, log_dir=log_dir), name="Total")
    after = workflow.add(CountedInc(x=total.out, log_dir=log_dir, name="after"), name="After")
    return after.out
"""


def _place(dag_files: Any, dag_id: str, runs: Path, cache: Path, **kwargs: Any) -> Any:
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    path = dag_files.place(
        dag_id,
        WORKFLOW
        + f"\ndag = to_dag(Chain(xs=[0, 1, 2, 3], log_dir={str(runs)!r}), dag_id={dag_id!r}, "
        f"cache_root={str(cache)!r}, {args})\n",
    )
    return dag_files.load(path, dag_id)


@pytest.mark.timeout(300)
def test_select_upstream_closure_runs_only_what_is_not_cached(
    dag_files: Any, tmp_path: Path
) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    runs.mkdir()
    only_flaky = _place(dag_files, "subset_flaky", runs, cache, select=["Flaky"])
    assert sorted(only_flaky.task_ids) == ["Flaky.collect", "Flaky.run", "outputs"]
    assert str(run_dag(only_flaky).state) == "success"
    assert executions(runs) == {"0": 1, "1": 1, "2": 1, "3": 1}

    # "+Total": Total and everything upstream of it, nothing downstream
    dag = _place(dag_files, "subset_total", runs, cache, select=["+Total"])
    assert sorted(dag.task_ids) == ["Flaky.collect", "Flaky.run", "Total", "outputs"]
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "success", states(dag_run)
    # Flaky's jobs came from the cache: only Total ran
    assert executions(runs) == {"0": 1, "1": 1, "2": 1, "3": 1, "sum": 1}
    assert run_outputs(dag_run) == {}  # the workflow output is After's, not rendered here

    # "After" alone reads Total (not rendered) from the cache
    dag = _place(dag_files, "subset_after", runs, cache, select=["After"])
    assert sorted(dag.task_ids) == ["After", "outputs"]
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "success", states(dag_run)
    assert executions(runs) == {"0": 1, "1": 1, "2": 1, "3": 1, "sum": 1, "after": 1}
    assert run_outputs(dag_run) == {"out": 2 * (0 + 1 + 2 + 3) + 1}


@pytest.mark.timeout(300)
def test_exclude_and_a_missing_upstream_is_named(
    dag_files: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    runs.mkdir()
    dag = _place(dag_files, "subset_excluded", runs, cache, exclude=["+Flaky"])
    assert sorted(dag.task_ids) == ["After", "Total", "outputs"]
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "failed"
    assert states(dag_run)[("Total", -1)] == "failed"
    captured = capfd.readouterr()
    assert (
        "Flaky is not rendered in this DAG (select=/exclude=) and its results are not all in "
        f"the cache {cache}: missing 4 job(s): Flaky[x=0], Flaky[x=1], Flaky[x=2], Flaky[x=3]"
    ) in captured.out + captured.err
    assert executions(runs) == {}


def test_selectors_are_checked(tmp_path: Path) -> None:
    from counting_tasks import Flaky

    defn = Flaky(log_dir=str(tmp_path)).split(x=[1, 2])
    with pytest.raises(
        ValueError, match=r"no node 'Nope' \(from selector '\+Nope'\); nodes: Flaky"
    ):
        to_dag(defn, dag_id="bad_select", cache_root=tmp_path, select=["+Nope"])
    with pytest.raises(ValueError, match="leave no node"):
        to_dag(defn, dag_id="empty_select", cache_root=tmp_path, exclude=["Flaky"])
