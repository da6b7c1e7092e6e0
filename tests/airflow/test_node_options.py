"""Issue 5 and issue 12 (must-hold 4): per-node Airflow settings.

Retries, pools and queues are set per node, on the tasks that run its jobs;
plait Resources give pool slots and Kubernetes pod resources through an
overridable function; node_options win.
"""

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


def _resources_workflow() -> object:
    from conformance_tasks import Sum

    from plait import python

    @python.define(cpus=4, memory="2GiB")
    def Heavy(p: int) -> int:
        return p

    @python.define(timeout=30)
    def Bounded(xs: list[int]) -> int:
        return sum(xs)

    @workflow.define(outputs=["total", "bounded"])
    def WithResources(ps: list[int]) -> tuple[int, int]:
        h = workflow.add(Heavy().split(p=ps).combine("p"))
        return workflow.add(Sum(xs=h.out)).out, workflow.add(Bounded(xs=h.out)).out

    return WithResources(ps=[1, 2, 3])


def test_resources_give_pool_slots_and_pod_resources_node_options_win(tmp_path: Path) -> None:
    defn = _resources_workflow()
    dag = to_dag(defn, dag_id="resources", cache_root=tmp_path)  # type: ignore[arg-type]
    run = dag.get_task("Heavy.run")
    assert run.pool_slots == 4
    pod = run.partial_kwargs["executor_config"]["pod_override"]
    assert pod.spec.containers[0].name == "base"
    assert pod.spec.containers[0].resources.requests == {"cpu": "4", "memory": str(2 * 1024**3)}
    assert dag.get_task("Sum").pool_slots == 1  # no resources declared
    # a timeout bounds the one job of a node without state
    assert dag.get_task("Bounded").execution_timeout == datetime.timedelta(seconds=30)
    assert dag.get_task("Heavy.run").partial_kwargs.get("execution_timeout") is None
    assert dag.get_task("Heavy.collect").pool_slots == 1  # bookkeeping tasks keep the default

    dag = to_dag(
        defn,  # type: ignore[arg-type]
        dag_id="resources_overridden",
        cache_root=tmp_path,
        node_options={"Heavy": {"pool_slots": 1, "queue": "big"}},
    )
    run = dag.get_task("Heavy.run")
    assert (run.pool_slots, run.queue) == (1, "big")


def test_task_settings_function_is_overridable_and_retries_come_from_the_definition(
    tmp_path: Path,
) -> None:
    from conformance_tasks import Sum

    from plait import Node
    from plait_airflow import default_task_settings

    defn = _resources_workflow()

    def settings(node: Node) -> dict[str, object]:
        args = default_task_settings(node)
        if node.resources is not None and (node.resources.memory or 0) > 1e9:
            args["queue"] = "bigmem"
        return args

    dag = to_dag(defn, dag_id="settings", cache_root=tmp_path, task_settings=settings)  # type: ignore[arg-type]
    assert dag.get_task("Heavy.run").queue == "bigmem"
    assert dag.get_task("Sum").queue == "default"
    assert dag.get_task("Sum").retries == 0

    # a definition that declares retries (the ``_retries`` class attribute) gets them
    Sum._retries = 2  # type: ignore[attr-defined]
    try:
        dag = to_dag(defn, dag_id="retries", cache_root=tmp_path)  # type: ignore[arg-type]
        assert dag.get_task("Sum").retries == 2
        dag = to_dag(
            defn,  # type: ignore[arg-type]
            dag_id="retries_overridden",
            cache_root=tmp_path,
            node_options={"Sum": {"retries": 0}},
        )
        assert dag.get_task("Sum").retries == 0
    finally:
        del Sum._retries  # type: ignore[attr-defined]
