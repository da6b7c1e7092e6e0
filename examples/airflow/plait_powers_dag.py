"""An Airflow DAG built from a plait workflow: drop this file into your dags folder.

    export AIRFLOW__PLAIT__CACHE_ROOT=/shared/plait-cache   # [plait] cache_root: every worker sees it
    export AIRFLOW_HOME=~/airflow-plait             # Airflow's config and sqlite database
    airflow db migrate                              # once per AIRFLOW_HOME
    AIRFLOW__CORE__DAGS_FOLDER=examples/airflow airflow dags test plait_powers
    # or: copy this file into your dags folder and trigger plait_powers from the UI

The cache comes from the ``[plait] cache_root`` option of Airflow's
configuration (set once per deployment, in ``airflow.cfg`` or as above), so
the DAG file names no path. The DAG mirrors the workflow: ``TenToThePower`` is a task group whose ``run``
task is mapped over ``ps`` (one task instance per job, labelled ``p=1``,
``p=2``, ...), ``Sum`` is one task, ``outputs`` pushes the results. Jobs run
through plait's cache, so rerunning the DAG, or running the same workflow with
``plait.Submitter`` on the same cache, does not run them again.

The tasks are defined here to keep the example in one file. To share cached
results between DAG files (or with ``Submitter`` runs), define them in an
importable module: a task's identity includes the module it is defined in.
"""

from __future__ import annotations

import datetime

from plait import python, workflow
from plait_airflow import to_dag


@python.define
def TenToThePower(p: int) -> int:
    """Ten to the power ``p``."""
    return 10**p


@python.define
def Sum(xs: list[int]) -> int:
    """The sum of ``xs``."""
    return sum(xs)


@workflow.define(outputs=["powers", "total"])
def Powers(ps: list[int]) -> tuple[list[int], int]:
    """Powers of ten over ``ps``, and their sum."""
    pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
    total = workflow.add(Sum(xs=pw.out))
    return pw.out, total.out


dag = to_dag(
    Powers(ps=[1, 2, 3, 4, 5]),
    dag_id="plait_powers",
    # Airflow options per node, for the tasks that run its jobs
    node_options={
        "TenToThePower": {"retries": 2, "retry_delay": datetime.timedelta(seconds=10)},
    },
    schedule=None,
    catchup=False,
    tags=["plait", "example"],
)
