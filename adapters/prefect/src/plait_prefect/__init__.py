"""plait on Prefect 3: every plait job one Prefect task run, named by its label.

Three ways in::

    from plait import Submitter
    from plait_prefect import to_flow

    # 1. the shared driver on Prefect: one host flow run, one task run per job
    with Submitter(worker="prefect", cache_root="/shared/cache") as sub:
        result = sub(Powers(ps=[1, 2, 3]))

    # 2. inside your own flow: the jobs become task runs of that flow run
    @flow
    def nightly(ps: list[int]) -> int:
        with Submitter(worker="prefect", cache_root="/shared/cache") as sub:
            return sub(Powers(ps=ps)).outputs.total

    # 3. a deployable flow whose parameters are the workflow's inputs
    powers = to_flow(Powers, name="powers", cache_root="/shared/cache")

Prefect's own caching and result persistence are off on every task and flow
plait makes: plait's job cache is the one store.
"""

from __future__ import annotations

from .flow import to_flow
from .tasks import PlaitJobError, run_plait_job, task_run_name
from .worker import PrefectWorker, default_task_runner

__all__ = [
    "PlaitJobError",
    "PrefectWorker",
    "default_task_runner",
    "run_plait_job",
    "task_run_name",
    "to_flow",
]

__version__ = "0.1.0"
