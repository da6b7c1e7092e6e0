"""Helpers for the airflow tests: running DAGs and reading task instance states."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: the repository's root
REPO = Path(__file__).resolve().parents[2]


def airflow_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the ``airflow`` command of this environment with the session's settings.

    conftest.py put the session's AIRFLOW_HOME and DB into ``os.environ``.
    """
    exe = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(exe), *args], env=dict(os.environ), capture_output=True, text=True, timeout=timeout
    )


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


def clear_and_resume(dag: Any, dag_run: Any, keys: list[tuple[str, int]]) -> Any:
    """Clear the given task instances (as the UI's Clear does) and run the same DAG run on.

    Tasks run in this process the way ``dag.test()`` runs them (Airflow's own
    ``_run_task``), scheduled by the DagRun's own ``update_state``.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance, clear_task_instances
    from airflow.sdk import DagRunState, TaskInstanceState
    from airflow.sdk.definitions.dag import _run_task
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.utils.session import create_session
    from sqlalchemy import select

    scheduler_dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
            )
        ).all()
        chosen = [ti for ti in tis if (ti.task_id, ti.map_index) in set(keys)]
        assert len(chosen) == len(keys), (keys, [(t.task_id, t.map_index) for t in tis])
        clear_task_instances(chosen, session, dag_run_state=DagRunState.RUNNING)
    with create_session() as session:
        dr = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        ).one()
        dr.dag = scheduler_dag
        dr.state = DagRunState.RUNNING
        session.commit()
        while dr.state == DagRunState.RUNNING:
            session.expire_all()
            schedulable, _ = dr.update_state(session=session)
            for ti in schedulable:
                if ti.state != TaskInstanceState.UP_FOR_RESCHEDULE:
                    ti.try_number += 1
                ti.state = TaskInstanceState.SCHEDULED
            session.commit()
            ready = [
                ti
                for ti in dr.get_task_instances(session=session)
                if ti.state == TaskInstanceState.SCHEDULED
            ]
            for ti in ready:
                _run_task(ti=ti, task=dag.task_dict[ti.task_id])
    with create_session() as session:
        dr = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        ).one()
        session.expunge(dr)
    return dr


def executions(log_dir: Any) -> dict[str, int]:
    """How many times each element ran: the counting tasks write one file per execution."""
    import collections
    import os

    counts: collections.Counter[str] = collections.Counter()
    for name in os.listdir(log_dir):
        counts[name.split(".")[0]] += 1
    return dict(counts)
