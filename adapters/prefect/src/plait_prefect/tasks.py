"""Prefect tasks that run plait jobs: one ``prefect.Task`` per plait node, one task run per job.

Each node of a workflow gets one :class:`prefect.Task` (built once: Prefect
reads the function's source every time a Task is made), whose runs are named
by the job's label through :func:`task_run_name` (a callable, never a
``str.format`` template: labels may contain braces). Prefect's own cache and
result persistence are switched off on every such task, explicitly, whatever
the user's Prefect settings say: plait's job cache is the one store.

The task body is :func:`run_plait_job` (the result travels back in memory, for
thread runners) or :func:`run_plait_job_by_cache` (the result stays in plait's
cache, which the driver reads; for process and Dask runners). A job's own
failure raises :class:`PlaitJobError`, a one-line exception that carries the
plait :class:`~plait.Result` (so Prefect fails the task run, retries it when
asked, and the driver still gets plait's error record).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from plait.result import Result
from plait.run import run_job

if TYPE_CHECKING:
    from prefect import Task

    from plait import Job

__all__ = [
    "ALLOWED_NODE_OPTIONS",
    "REJECTED_NODE_OPTIONS",
    "PlaitJobError",
    "check_node_options",
    "node_task",
    "run_plait_job",
    "run_plait_job_by_cache",
    "task_run_name",
]

#: Prefect task options a user may set per node (``node_options={"Node": {...}}``)
ALLOWED_NODE_OPTIONS = frozenset(
    {
        "retries",
        "retry_delay_seconds",
        "retry_jitter_factor",
        "retry_condition_fn",
        "timeout_seconds",
        "tags",
        "log_prints",
        "on_completion",
        "on_failure",
        "on_running",
        "description",
        "version",
    }
)

#: Prefect task options that would bypass plait's names or its cache
REJECTED_NODE_OPTIONS = {
    "name": "plait names each task after its node",
    "task_run_name": "plait names each task run after its job's label",
    "cache_policy": "plait's job cache is the one cache",
    "cache_key_fn": "plait's job cache is the one cache",
    "cache_expiration": "plait's job cache is the one cache",
    "refresh_cache": "plait's job cache is the one cache",
    "persist_result": "results live in plait's job cache, not in Prefect's result storage",
    "result_storage": "results live in plait's job cache, not in Prefect's result storage",
    "result_serializer": "results live in plait's job cache, not in Prefect's result storage",
    "result_storage_key": "results live in plait's job cache, not in Prefect's result storage",
}


class PlaitJobError(Exception):
    """A plait job failed: ``Node[x=1]: ValueError: bad element 1``.

    ``result`` is the job's plait :class:`~plait.Result` (with plait's
    traceback in ``result.errors``); it survives pickling, so process and Dask
    task runners bring it back too. The message stays one line so Prefect's
    task-run log reads well.
    """

    def __init__(self, message: str, result: Result | None = None) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.result))


def task_run_name(parameters: Mapping[str, Any]) -> str:
    """The task run's name: the label of the job it runs (``TenToThePower[p=3]``)."""
    return str(parameters["job"].label)


def _log_failure(job: Job, result: Result) -> None:
    from prefect.logging import get_run_logger

    logger = get_run_logger()
    for err in result.errors:
        logger.error("%s failed: %s: %s\n%s", job.label, err.type, err.message, err.traceback)


def _raise_failure(job: Job, result: Result) -> None:
    _log_failure(job, result)
    first = result.errors[0] if result.errors else None
    what = f"{first.type}: {first.message}" if first is not None else "failed"
    more = f" (+{len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
    line = what.splitlines()[0] if what else what
    raise PlaitJobError(f"{job.label}: {line}{more}", result)


#: Prefect's task-run logger; checked before building a run logger for a debug line
_TASK_RUN_LOGGER = logging.getLogger("prefect.task_runs")


def _debug(job: Job) -> None:
    if not _TASK_RUN_LOGGER.isEnabledFor(logging.DEBUG):
        return
    from prefect.logging import get_run_logger

    get_run_logger().debug("plait job %s in %s", job.label, job.cache_dir)


def run_plait_job(job: Job) -> Result:
    """The body of a plait task run: run ``job`` through plait's cache, return its Result.

    A job's failure raises :class:`PlaitJobError` (after logging plait's
    traceback to the task run's log), so the task run is Failed, or retried.
    """
    _debug(job)
    result = run_job(job)
    if result.errored:
        _raise_failure(job, result)
    return result


def run_plait_job_by_cache(job: Job) -> None:
    """As :func:`run_plait_job`, but the Result stays in plait's cache (read by the driver).

    For task runners whose tasks run in other processes (process pool, Dask):
    outputs do not travel back through Prefect.
    """
    _debug(job)
    result = run_job(job)
    if result.errored:
        _raise_failure(job, result)


def check_node_options(
    node_options: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Validate ``node_options``: a ValueError names any key plait owns or does not know."""
    checked: dict[str, dict[str, Any]] = {}
    for node, options in (node_options or {}).items():
        if not isinstance(options, Mapping):
            raise TypeError(
                f"node_options[{node!r}]: expected a dict of Prefect task options, got {options!r}"
            )
        for key in options:
            if key in REJECTED_NODE_OPTIONS:
                raise ValueError(
                    f"node_options[{node!r}]: {key!r} cannot be set ({REJECTED_NODE_OPTIONS[key]})"
                )
            if key not in ALLOWED_NODE_OPTIONS:
                raise ValueError(
                    f"node_options[{node!r}]: unknown option {key!r} "
                    f"(allowed: {', '.join(sorted(ALLOWED_NODE_OPTIONS))})"
                )
        checked[node] = dict(options)
    return checked


def check_node_names(node_options: Mapping[str, Any], known: list[str], where: str) -> None:
    """A ValueError if ``node_options`` names a node that is not in ``known``."""
    unknown = sorted(set(node_options) - set(known))
    if unknown:
        raise ValueError(
            f"{where}: node_options names unknown node(s) {', '.join(map(repr, unknown))} "
            f"(nodes: {', '.join(known)})"
        )


def node_task(
    node: str,
    options: Mapping[str, Any] | None = None,
    *,
    by_cache: bool = False,
    tags: tuple[str, ...] = (),
) -> Task[..., Any]:
    """The Prefect task of plait node ``node``, with plait's cache and names enforced.

    ``options`` are checked Prefect task options (see :func:`check_node_options`);
    ``tags`` are added to every task (each tag costs Prefect an API call per
    task run, so none by default).
    """
    from prefect import Task
    from prefect.cache_policies import NO_CACHE

    opts = dict(options or {})
    all_tags = set(tags) | set(opts.pop("tags", ()) or ())
    fn: Callable[..., Any] = run_plait_job_by_cache if by_cache else run_plait_job
    return Task(
        fn=fn,
        name=node,
        task_run_name=task_run_name,  # type: ignore[arg-type]  # a parameters callback
        cache_policy=NO_CACHE,
        persist_result=False,
        tags=all_tags or None,
        **opts,
    )
