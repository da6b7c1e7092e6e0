"""``run_job``: the one function every host calls to run a job."""

from __future__ import annotations

import logging
import os
import resource
import time
from typing import TYPE_CHECKING

from .cache import ERROR_FILE, JobLock, clear_job_dir, load_cached, load_result, save_error
from .errors import GraphError
from .result import ErrorInfo, Result, Runtime

if TYPE_CHECKING:
    from .graph import Job

logger = logging.getLogger(__name__)


def run_job(job: Job) -> Result:
    """Run ``job`` through the cache and return its :class:`Result`.

    Idempotent: a job whose result is already in its cache directory (or in
    one of its read-only caches) returns that result without running. Two
    processes asking for the same job at once: one runs it, the other waits
    for it and reuses the result. A task's own failure is returned as a
    Result with ``errored=True`` (and recorded in ``error.json``), never
    raised, and never cached as a success.

    This module is a leaf: it runs task jobs (python, shell) only. A job of a
    nested workflow that could not be flattened into the host's graph is run
    by :func:`plait.run_workflow_job` (or expanded by the driver).
    """
    cached = load_cached(job.cache_dir, job.readonly_caches)
    if cached is not None:
        return cached
    return execute_job(job)


def execute_job(job: Job) -> Result:
    """Run ``job``, whose result the caller has just looked for in the cache and not found.

    The same as :func:`run_job` without the first cache look-up (for workers
    whose driver has done it); still safe if another process races for it.
    """
    if job.kind == "workflow":
        raise GraphError(
            f"{job.label}: a nested workflow job is not run by run_job; expand it into the "
            "host's graph (plait.compile flattens nested workflows) or call "
            "plait.run_workflow_job"
        )
    try:
        os.mkdir(job.cache_dir)
        fresh = True
    except FileExistsError:
        fresh = False
    except FileNotFoundError:
        os.makedirs(job.cache_dir, exist_ok=True)
        fresh = True
    lock = JobLock(job.cache_dir)
    waited = lock.acquire()
    try:
        if not fresh or waited:
            cached = load_result(job.cache_dir)
            if cached is not None:
                return cached
            clear_job_dir(job.cache_dir)
        return _execute(job, lock)
    finally:
        lock.release()


def _execute(job: Job, lock: JobLock) -> Result:
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    # only shell tasks start child processes whose usage counts
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN) if job.kind == "shell" else None
    try:
        outputs = job.definition._execute(job.cache_dir, job.environment)  # type: ignore[attr-defined]
    except Exception as exc:
        error = ErrorInfo.from_exception(exc, job.label, f"{job.cache_dir}/{ERROR_FILE}")
        save_error(job.cache_dir, [error])
        logger.info("job %s failed: %s: %s", job.label, error.type, error.message)
        return Result(
            outputs=None,
            cache_dir=job.cache_dir,
            errored=True,
            errors=(error,),
            runtime=_runtime(wall0, cpu0, children0),
        )
    result = Result(
        outputs=outputs, cache_dir=job.cache_dir, runtime=_runtime(wall0, cpu0, children0)
    )
    lock.commit(result)
    return result


def _runtime(wall0: float, cpu0: float, children0: resource.struct_rusage | None) -> Runtime:
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_cpu = 0.0
    if children0 is not None:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = children.ru_utime - children0.ru_utime + children.ru_stime - children0.ru_stime
        rss_kb = max(rss_kb, children.ru_maxrss)
    return Runtime(
        wall=time.perf_counter() - wall0,
        cpu=time.process_time() - cpu0 + child_cpu,
        peak_rss=rss_kb * 1024,
    )
