"""Issue 5: Airflow's retries, pools and queues are set per node, on the tasks that run its jobs."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from plait import workflow
from plait_airflow import to_dag


def _powers_workflow() -> object:
    from conformance_tasks import Sum, TenToThePower

    @workflow.define
    def Heavy(ps: list[int]) -> int:
        pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
        return workflow.add(Sum(xs=pw.out)).out

    return Heavy(ps=[1, 2, 3])


def test_node_options_reach_the_tasks_of_that_node_only(tmp_path: Path) -> None:
    dag = to_dag(
        _powers_workflow(),  # type: ignore[arg-type]
        dag_id="node_options",
        cache_root=tmp_path,
        node_options={
            "TenToThePower": {
                "retries": 3,
                "retry_delay": datetime.timedelta(seconds=5),
                "pool": "gpu",
                "queue": "big",
            },
            "Sum": {"queue": "small", "pool_slots": 2},
        },
    )
    run = dag.get_task("TenToThePower.run")
    assert (run.retries, run.pool, run.queue) == (3, "gpu", "big")
    assert run.retry_delay == datetime.timedelta(seconds=5)
    total = dag.get_task("Sum")
    assert (total.queue, total.pool_slots, total.pool) == ("small", 2, "default_pool")
    # the bookkeeping tasks of the split keep Airflow's defaults
    collect = dag.get_task("TenToThePower.collect")
    assert (collect.retries, collect.pool) == (0, "default_pool")


def test_node_options_for_an_unknown_node_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"node_options for unknown node\(s\) \['Nope'\]"):
        to_dag(
            _powers_workflow(),  # type: ignore[arg-type]
            dag_id="bad_options",
            cache_root=tmp_path,
            node_options={"Nope": {"retries": 1}},
        )
