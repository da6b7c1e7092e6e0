"""Helpers for the airflow tests: running DAGs and reading task instance states."""

from __future__ import annotations

from typing import Any


def run_dag(dag: Any, **kwargs: Any) -> Any:
    """``dag.test()`` (it does not raise when tasks fail: check the returned DagRun's state)."""
    return dag.test(**kwargs)


def task_instances(dag_run: Any) -> dict[tuple[str, int], Any]:
    """The run's task instances by (task_id, map_index), fresh from the metadata DB."""
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = dag_run.get_task_instances(session=session)
        for ti in tis:
            session.expunge(ti)
    return {(ti.task_id, ti.map_index): ti for ti in tis}


def states(dag_run: Any) -> dict[tuple[str, int], str]:
    """(task_id, map_index) -> state name."""
    return {k: str(ti.state) if ti.state else "none" for k, ti in task_instances(dag_run).items()}
