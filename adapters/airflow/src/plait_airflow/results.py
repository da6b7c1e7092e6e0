"""Reading a finished DAG run's plait outputs from outside the run (tests, notebooks, callbacks)."""

from __future__ import annotations

from typing import Any

from . import _store
from .node_operators import OUTPUTS_KEY

__all__ = ["resolve", "run_outputs", "xcom_value"]


def xcom_value(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """The XCom ``key`` that task ``task_id`` (mapped instance ``map_index``) pushed in ``dag_run``.

    None if there is none. Reads the metadata database, so call it where
    Airflow's ORM is configured (scheduler side, tests), not inside a task.
    """
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id,
                dag_ids=dag_run.dag_id,
                task_ids=task_id,
                key=key,
                map_indexes=map_index,
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def run_outputs(dag_run: Any, outputs_task_id: str = "outputs") -> dict[str, Any] | None:
    """The exact outputs (not their XCom form) of a DAG run built by :func:`to_dag`.

    ``dag_run`` is an Airflow ``DagRun`` (e.g. what ``dag.test()`` returns).
    Failed elements are None. Returns None if the run never reached its
    outputs task. Reads the metadata database, like :func:`xcom_value`.
    """
    pushed = xcom_value(dag_run, outputs_task_id, key=OUTPUTS_KEY)
    if pushed is None:
        return None
    outputs: dict[str, Any] = _store.load_output(pushed["cache_root"], pushed["ref"])
    return outputs


def resolve(value: Any) -> Any:
    """The data behind the plait references in an XCom value (anywhere: tasks, tests, callbacks).

    ``PlaitOperator`` and ``to_dag`` push references, never data: this turns
    ``{"out": {"plait_ref": ...}}`` back into ``{"out": 10}`` (path strings
    of file outputs stay paths). Reads the shared cache the references point into.
    """
    return _store.from_xcom(value, "")
