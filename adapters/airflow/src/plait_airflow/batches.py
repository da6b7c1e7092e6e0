"""Job batches: how many of a node's jobs one mapped Airflow task instance runs.

Each Airflow task instance costs 0.1 s (``dag.test()``) to 2 s (a real
scheduler) of its own, so a node of many small jobs spends its time in
Airflow, not in the jobs. ``to_dag(..., jobs_per_task=N)`` runs a contiguous
batch of N jobs per mapped task instance instead; every job is still run
through the cache, labelled and reported on its own, and a cleared or retried
batch reruns only its unfinished jobs.

Without ``jobs_per_task`` a node gets one task instance per job up to
``[plait] max_tasks_per_node`` (64) task instances; a node with more jobs is
cut into that many batches. Airflow's ``[core] max_map_length`` (1024) is a
hard ceiling either way: batches grow so that no mapped task exceeds it.

Example: 200 jobs with ``jobs_per_task=25`` -> 8 task instances labelled
``x=0…24``, ``x=25…49``, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plait import Job
from plait.labels import render_state

from . import config

__all__ = ["Batch", "batch_label", "batch_size", "batches"]

#: what a mapped task instance gets: its slice of the node's jobs and its label
Batch = dict[str, Any]


def max_map_length() -> int:
    """Airflow's ``[core] max_map_length``: the most task instances one mapped task may have."""
    from airflow.sdk import conf

    return max(1, conf.getint("core", "max_map_length", fallback=1024))


def batch_size(n_jobs: int, jobs_per_task: int | None) -> int:
    """Jobs per task instance for a node of ``n_jobs`` jobs.

    ``jobs_per_task`` when given (else enough to stay within ``[plait]
    max_tasks_per_node`` task instances), raised if needed so the node stays
    within ``[core] max_map_length`` task instances.
    """
    if jobs_per_task is None:
        size = -(-n_jobs // config.max_tasks_per_node()) if n_jobs else 1
    else:
        size = jobs_per_task
    ceiling = max_map_length()
    if n_jobs > ceiling * size:
        size = -(-n_jobs // ceiling)
    return max(1, size)


def batch_label(jobs: Sequence[Job]) -> str:
    """The map index label of a batch: its one job's state, or the range ``x=0…24``.

    When the first and last job differ only in their last state field, the
    range names it once (``a=1,x=0…24``); otherwise both states are shown
    (``a=0,x=3…a=1,x=2``). Rendered with :mod:`plait.labels`.
    """
    first, last = jobs[0].state, jobs[-1].state
    if len(jobs) == 1 or first == last:
        return render_state(first)
    if first and len(first) == len(last) and first[:-1] == last[:-1]:
        field, value = last[-1]
        if field == first[-1][0]:
            return f"{render_state(first)}…{render_state(((field, value),))[len(field) + 1 :]}"
    return f"{render_state(first)}…{render_state(last)}"


def batches(jobs: Sequence[Job], jobs_per_task: int | None, expansion: str | None) -> list[Batch]:
    """One small reference per mapped task instance: a contiguous slice of ``jobs``.

    ``expansion`` names the stored run-time expansion the jobs come from (None:
    the node's jobs are known when the DAG file is parsed).
    """
    size = batch_size(len(jobs), jobs_per_task)
    return [
        {
            "start": start,
            "stop": min(start + size, len(jobs)),
            "label": batch_label(jobs[start : start + size]),
            "expansion": expansion,
        }
        for start in range(0, len(jobs), size)
    ]
