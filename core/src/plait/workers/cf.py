"""The ``cf`` worker: a local pool of processes (``concurrent.futures``).

Jobs travel with cloudpickle, so tasks defined in ``__main__`` or a notebook
work. Example::

    TenToThePower().split(p=[1, 2, 3])(worker="cf", n_procs=2)
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import sys
from typing import TYPE_CHECKING

import cloudpickle

from ..result import ErrorInfo, Result
from .base import Worker

if TYPE_CHECKING:
    from ..graph import Job


def _run_pickled(payload: bytes) -> bytes:
    from ..run import run_job

    job = pickle.loads(payload)
    return cloudpickle.dumps(run_job(job), protocol=pickle.HIGHEST_PROTOCOL)


class ConcurrentFuturesWorker(Worker):
    """Run jobs in ``n_procs`` local processes (default: the number of CPUs).

    ``mp_context`` picks the start method: ``"fork"`` by default on Linux
    (scripts need no ``if __name__ == "__main__"`` guard, and workers start
    fast), the platform's default elsewhere.
    """

    name = "cf"

    def __init__(self, n_procs: int | None = None, mp_context: str | None = None) -> None:
        self.n_procs = n_procs or os.cpu_count() or 1
        method = mp_context or ("fork" if sys.platform.startswith("linux") else None)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.n_procs, mp_context=multiprocessing.get_context(method)
        )
        self._futures: dict[cf.Future[bytes], Job] = {}

    def submit(self, job: Job) -> None:
        """Send ``job`` to the pool."""
        payload = cloudpickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        self._futures[self._pool.submit(_run_pickled, payload)] = job

    def wait(self) -> list[tuple[Job, Result]]:
        """Block until at least one job has finished."""
        done, _ = cf.wait(self._futures, return_when=cf.FIRST_COMPLETED)
        finished = []
        for future in done:
            job = self._futures.pop(future)
            finished.append((job, _result_of(job, future)))
        return finished

    def close(self) -> None:
        """Shut the pool down."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _result_of(job: Job, future: cf.Future[bytes]) -> Result:
    try:
        return pickle.loads(future.result())
    except Exception as exc:  # the process died or the result could not travel back
        return _worker_error(job, exc)


def _worker_error(job: Job, exc: BaseException) -> Result:
    from pathlib import Path

    error = ErrorInfo.from_exception(exc, job.label)
    return Result(outputs=None, cache_dir=Path(job.cache_dir), errored=True, errors=(error,))
