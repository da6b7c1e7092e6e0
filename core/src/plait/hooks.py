"""Callbacks around a run and around each job."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .graph import Graph, Job
    from .result import Result


def _noop(*_: Any) -> None:
    return None


@attrs.frozen
class TaskHooks:
    """Functions called at these moments (all optional):

    - ``pre_run(graph)`` before a submission starts;
    - ``pre_run_task(job)`` before a job is handed to the worker;
    - ``post_run_task(job, result)`` when a job has finished (or was cached);
    - ``post_run(result)`` when the submission has finished.

    They run in the process that drives the submission.
    """

    pre_run: Callable[[Graph], Any] = _noop
    pre_run_task: Callable[[Job], Any] = _noop
    post_run_task: Callable[[Job, Result], Any] = _noop
    post_run: Callable[[Result], Any] = _noop
