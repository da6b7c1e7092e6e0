"""Issue 5, item 4: PlaitOperator in a hand-written DAG, with .partial().expand(), sharing the
cache with a to_dag run of the same tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import run_dag, states, task_instances

import plait
from plait_airflow import resolve, xcom_value


def _stored(root: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime_ns for p in root.glob("*/result.pkl")}


@pytest.mark.timeout(300)
def test_operator_expand_shares_the_cache_with_to_dag(dag_files: Any, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = dag_files.place(
        "shared_to_dag",
        f"""
        from conformance_tasks import Powers
        from plait_airflow import to_dag

        dag = to_dag(Powers(ps=[1, 2, 3]), dag_id="shared_to_dag", cache_root={str(cache)!r})
        """,
    )
    first = run_dag(dag_files.load(path, "shared_to_dag"))
    assert str(first.state) == "success"
    before = _stored(cache)
    assert len(before) == 5  # 3 powers, the sum, the workflow

    path = dag_files.place(
        "by_hand",
        f"""
        from airflow.sdk import DAG
        from conformance_tasks import Sum, TenToThePower
        from plait_airflow import PlaitOperator

        CACHE = {str(cache)!r}

        with DAG("by_hand", schedule=None):
            powers = PlaitOperator.partial(
                task_id="powers", task=TenToThePower(), cache_root=CACHE
            ).expand(inputs=[{{"p": p}} for p in [1, 2, 3, 4]])
            total = PlaitOperator(
                task_id="total",
                task=Sum(),
                cache_root=CACHE,
                inputs={{"xs": powers.output.map(lambda out: out["out"])}},
            )
        """,
    )
    run = run_dag(dag_files.load(path, "by_hand"))
    assert str(run.state) == "success", states(run)
    tis = task_instances(run)
    labels = {mi: ti.rendered_map_index for (tid, mi), ti in tis.items() if tid == "powers"}
    assert labels == {0: "p=1", 1: "p=2", 2: "p=3", 3: "p=4"}
    pushed = [xcom_value(run, "powers", map_index=i) for i in range(4)]
    # XCom carries references into the cache, never the data (docs/design.md §6)
    assert all(set(p["out"]) == {"plait_ref", "cache_root", "field", "index"} for p in pushed)
    assert [resolve(p) for p in pushed] == [
        {"out": 10},
        {"out": 100},
        {"out": 1000},
        {"out": 10000},
    ]
    assert resolve(xcom_value(run, "total")) == {"out": 11110}
    assert resolve(xcom_value(run, "total", key="out")) == 11110
    after = _stored(cache)
    # the three powers to_dag ran were served from the cache (not rewritten);
    # only p=4 and the new sum ran
    assert {k: after[k] for k in before} == before
    assert len(after) == len(before) + 2


@pytest.mark.timeout(300)
def test_operator_failure_files_and_references(dag_files: Any, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    src = tmp_path / "in.txt"
    src.write_text("hello")
    path = dag_files.place(
        "operator_misc",
        f"""
        from airflow.sdk import DAG
        from conformance_tasks import Copy, FailOn, ReadText
        from plait import python
        from plait_airflow import PlaitOperator

        CACHE = {str(cache)!r}

        @python.define
        def MakeSet(n: int) -> set:
            return set(range(n))

        @python.define
        def Size(s: set) -> int:
            return len(s)

        with DAG("operator_misc", schedule=None):
            PlaitOperator.partial(task_id="fail_on", task=FailOn(bad=2), cache_root=CACHE).expand(
                inputs=[{{"x": x}} for x in [1, 2, 3]]
            )
            copy = PlaitOperator(task_id="copy", task=Copy(in_file={str(src)!r}), cache_root=CACHE)
            PlaitOperator(
                task_id="read", task=ReadText(), cache_root=CACHE,
                inputs={{"f": copy.output["out_file"]}},
            )
            made = PlaitOperator(task_id="make_set", task=MakeSet(n=4), cache_root=CACHE)
            PlaitOperator(
                task_id="size", task=Size(), cache_root=CACHE, inputs={{"s": made.output["out"]}}
            )
        """,
    )
    run = run_dag(dag_files.load(path, "operator_misc"))
    got = states(run)
    assert [got[("fail_on", i)] for i in range(3)] == ["success", "failed", "success"]
    assert str(run.state) == "failed"
    # a file output is pushed as a path string into the job's cache directory
    copied = xcom_value(run, "copy", key="out_file")
    assert (
        isinstance(copied, str)
        and copied.startswith(str(cache))
        and Path(copied).read_text() == "hello"
    )
    assert resolve(xcom_value(run, "read")) == {"out": "hello"}
    # a value XCom cannot carry goes as a reference into the cache, resolved downstream
    ref = xcom_value(run, "make_set", key="out")
    assert "plait_ref" in ref
    assert resolve(xcom_value(run, "size")) == {"out": 4}
    assert len(plait.cache.stored(cache)) == 2 + 1 + 1 + 1 + 1
