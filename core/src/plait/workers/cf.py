"""The ``cf`` worker: a local pool of processes (``concurrent.futures``).

Jobs travel with cloudpickle, so tasks defined in ``__main__`` or a notebook
work. Example::

    TenToThePower().split(p=[1, 2, 3])(worker="cf", n_procs=2)

Jobs that become ready together are sent in batches (several per process
and round), so a task class defined in ``__main__`` is pickled once per batch
rather than once per job, and each round trip to a process carries many
small jobs.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import cloudpickle

from ..result import ErrorInfo, Result
from .base import Worker

if TYPE_CHECKING:
    from ..graph import Job


def _run_batch(payload: bytes) -> bytes:
    from ..run import execute_job

    results = []
    for job in pickle.loads(payload):
        try:
            results.append(execute_job(job))
        except Exception as exc:  # an infrastructure failure, not the task's own
            results.append(_error_result(job, exc))
    return cloudpickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)


class ConcurrentFuturesWorker(Worker):
    """Run jobs in ``n_procs`` local processes (default: the number of CPUs).

    ``max_batch`` caps how many jobs travel to a process together (batches
    are sized so that each process gets several per round). ``mp_context``
    picks the start method: ``"fork"`` by default on Linux (scripts need no
    ``if __name__ == "__main__"`` guard, and workers start fast), the
    platform's default elsewhere.
    """

    name = "cf"

    def __init__(
        self, n_procs: int | None = None, max_batch: int = 64, mp_context: str | None = None
    ) -> None:
        self.n_procs = n_procs or os.cpu_count() or 1
        self.max_batch = max(1, max_batch)
        method = mp_context or ("fork" if sys.platform.startswith("linux") else None)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.n_procs, mp_context=multiprocessing.get_context(method)
        )
        self._futures: dict[cf.Future[bytes], list[Job]] = {}
        self._buffer: list[Job] = []

    def submit(self, job: Job) -> None:
        """Queue ``job``; queued jobs go to the pool in batches on :meth:`wait`."""
        self._buffer.append(job)

    def _flush(self) -> None:
        jobs, self._buffer = self._buffer, []
        if not jobs:
            return
        size = max(1, min(self.max_batch, math.ceil(len(jobs) / (4 * self.n_procs))))
        for start in range(0, len(jobs), size):
            batch = jobs[start : start + size]
            payload = cloudpickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            self._futures[self._pool.submit(_run_batch, payload)] = batch

    def wait(self) -> list[tuple[Job, Result]]:
        """Send the queued jobs, then block until at least one batch has finished."""
        self._flush()
        done, _ = cf.wait(self._futures, return_when=cf.FIRST_COMPLETED)
        finished: list[tuple[Job, Result]] = []
        for future in done:
            batch = self._futures.pop(future)
            try:
                results = pickle.loads(future.result())
            except Exception as exc:  # the process died or a result could not travel back
                results = [_error_result(job, exc) for job in batch]
            finished.extend(zip(batch, results))
        return finished

    def close(self) -> None:
        """Shut the pool down."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _error_result(job: Job, exc: BaseException) -> Result:
    error = ErrorInfo.from_exception(exc, job.label)
    return Result(outputs=None, cache_dir=Path(job.cache_dir), errored=True, errors=(error,))
