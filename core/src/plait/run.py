"""``run_job``: the one function every host calls to run a job."""

from __future__ import annotations

import logging
import os
import resource
import time
from typing import TYPE_CHECKING

from .cache import (
    ERROR_FILE,
    RESULT_FILE,
    JobLock,
    clear_job_dir,
    load_cached,
    load_result,
    make_job_dir,
    save_error,
    save_result,
)
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
    whose driver has done it); still safe if another process races for it:
    the result is looked up again once the lock is held. Never raises for a
    failure of the job or of the cache (a full disk, no permission, outputs
    that cannot be stored): those are returned as an errored Result, and the
    lock is released on every path.
    """
    if job.kind == "workflow":
        raise GraphError(
            f"{job.label}: a nested workflow job is not run by run_job; expand it into the "
            "host's graph (plait.compile flattens nested workflows) or call "
            "plait.run_workflow_job"
        )
    lock = JobLock(job.cache_dir)
    try:
        fresh = make_job_dir(job.cache_dir)
        waited = lock.acquire()
        # look again with the lock held: another process may have finished it meanwhile
        if fresh and not waited:  # the usual case: one cheap look
            if os.path.lexists(f"{job.cache_dir}/{RESULT_FILE}"):
                cached = load_result(job.cache_dir)
                if cached is not None:
                    return cached
                clear_job_dir(job.cache_dir)
        else:
            entries = os.listdir(job.cache_dir)
            if RESULT_FILE in entries:
                cached = load_result(job.cache_dir)
                if cached is not None:
                    return cached
            if len(entries) > 1:
                clear_job_dir(job.cache_dir)
        return _execute(job, lock)
    except OSError as exc:
        return _cache_failure(job, exc)
    finally:
        lock.release()


def _execute(job: Job, lock: JobLock) -> Result:
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    # only shell tasks start child processes whose usage counts
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN) if job.kind == "shell" else None
    try:
        outputs = job.definition._execute(job.cache_dir, job.environment)  # type: ignore[attr-defined]
    except (Exception, SystemExit) as exc:  # SystemExit: sys.exit() in a task ends only the job
        return _failed(job, exc, _runtime(wall0, cpu0, children0))
    result = Result(
        outputs=outputs, cache_dir=job.cache_dir, runtime=_runtime(wall0, cpu0, children0)
    )
    try:
        save_result(job.cache_dir, result, lock)
    except Exception as exc:
        error = RuntimeError(
            f"{job.label}: cannot store the result in {job.cache_dir}: {type(exc).__name__}: {exc}"
        )
        error.__cause__ = exc
        return _failed(job, error, result.runtime)
    return result


def _failed(job: Job, exc: BaseException, runtime: Runtime) -> Result:
    """The errored Result of ``job`` (recorded in its ``error.json``, best effort)."""
    error = ErrorInfo.from_exception(exc, job.label, f"{job.cache_dir}/{ERROR_FILE}")
    save_error(job.cache_dir, [error])
    logger.info("job %s failed: %s: %s", job.label, error.type, error.message)
    return Result(
        outputs=None, cache_dir=job.cache_dir, errored=True, errors=(error,), runtime=runtime
    )


def _cache_failure(job: Job, exc: OSError) -> Result:
    """A job that could not run because its cache directory failed (full, forbidden)."""
    error = ErrorInfo.from_exception(
        OSError(exc.errno, f"{job.label}: cache directory {job.cache_dir}: {exc.strerror or exc}"),
        job.label,
    )
    logger.warning("job %s failed in the cache: %s", job.label, exc)
    return Result(outputs=None, cache_dir=job.cache_dir, errored=True, errors=(error,))


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
