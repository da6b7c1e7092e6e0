"""Issue 9, must-hold 5 (Airflow part): nested workflows as TaskGroups, one task per inner node.

Outputs and cache directories equal to debug's are checked by the conformance
cases ``nested-workflow`` and ``nested-workflow-connected``
(test_airflow_conformance.py); this checks the shape of the DAG.
"""

from __future__ import annotations

from pathlib import Path

from conformance_tasks import Add, NestedConnected, Outer

from plait import workflow
from plait_airflow import to_dag


@workflow.define
def Twice(xs: list[int], k: int) -> int:
    """Outer nested in another workflow: TaskGroups inside TaskGroups."""
    outer = workflow.add(Outer(xs=xs, k=k))
    return workflow.add(Add(a=outer.total, b=100)).out


def test_one_task_group_per_nested_workflow_and_one_task_per_inner_node(tmp_path: Path) -> None:
    dag = to_dag(Twice(xs=[1, 2], k=3), dag_id="nested_twice", cache_root=tmp_path)
    groups = set(dag.task_group_dict)
    assert {"Outer", "Outer.SplitPropagateCombine"} <= groups
    assert dag.task_group_dict["Outer.SplitPropagateCombine"].parent_group.group_id == "Outer"
    # the inner nodes are tasks of their own (a pipelined chain Add -> Mul, then Sum)
    assert {
        "Outer.SplitPropagateCombine.chain_Add.Add",
        "Outer.SplitPropagateCombine.chain_Add.Mul",
        "Outer.SplitPropagateCombine.Sum",
        "Outer.Add",
        "Add",
        "outputs",
    } <= set(dag.task_ids)


def test_nested_workflow_fed_by_a_split_node(tmp_path: Path) -> None:
    dag = to_dag(NestedConnected(xs=[1, 2, 3]), dag_id="nested_connected", cache_root=tmp_path)
    assert {"Inner", "Inner.Add", "Inner.Mul"} <= set(dag.task_group_dict)
    assert {"Inner.Add.expand", "Inner.Add.run", "Inner.Add.collect", "Inner.Mul.run"} <= set(
        dag.task_ids
    )
