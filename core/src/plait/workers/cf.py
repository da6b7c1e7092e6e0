"""The ``cf`` worker: a local pool of processes.

Jobs travel with cloudpickle, so tasks defined in ``__main__`` or a notebook
work. Example::

    TenToThePower().split(p=[1, 2, 3])(worker="cf", n_procs=2)

Jobs that become ready together are sent in batches (several per process
and round), so a task class defined in ``__main__`` is pickled once per batch
rather than once per job; each process answers job by job. The pool
(:mod:`plait.workers.pool`) fails only the job whose process died, stops a
job that exceeds its ``timeout``, treats ``sys.exit`` in a task as that job's
failure, and its processes exit when the driver dies.
"""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING

from .base import Worker
from .pool import ProcessPool

if TYPE_CHECKING:
    from ..graph import Job
    from ..result import Result


def _run(job: Job) -> Result:
    from ..run import execute_job

    return execute_job(job)


class ConcurrentFuturesWorker(Worker):
    """Run jobs in ``n_procs`` local processes (default: the number of CPUs).

    ``max_batch`` caps how many jobs travel to a process together (batches
    are sized so that each process gets several per round). ``mp_context``
    picks the start method: ``"fork"`` by default on Linux (scripts need no
    ``if __name__ == "__main__"`` guard, and workers start fast), the
    platform's default elsewhere. ``timeout`` (seconds) stops any job running
    longer, unless its definition sets its own (``python.define(timeout=...)``);
    the job fails with ``TimeoutError``. Through the Submitter:
    ``Submitter(worker="cf", timeout=600)``.
    """

    name = "cf"

    def __init__(
        self,
        n_procs: int | None = None,
        max_batch: int = 64,
        mp_context: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.n_procs = n_procs or os.cpu_count() or 1
        self.max_batch = max(1, max_batch)
        self.timeout = timeout
        method = mp_context or ("fork" if sys.platform.startswith("linux") else None)
        self._pool = ProcessPool(
            self.n_procs,
            _run,
            method,
            timeout_of=self._timeout_of,
            batch_size=self._batch_size,
        )
        self._buffer: list[Job] = []

    def _timeout_of(self, job: Job) -> float | None:
        res = job.resources
        limit = getattr(res, "timeout", None) if res is not None else None
        return limit if limit is not None else self.timeout

    def _batch_size(self, queued: int) -> int:
        return max(1, min(self.max_batch, math.ceil(queued / (4 * self.n_procs))))

    def submit(self, job: Job) -> None:
        """Queue ``job``; queued jobs go to the pool in batches on :meth:`wait`."""
        self._buffer.append(job)

    def wait(self) -> list[tuple[Job, Result]]:
        """Send the queued jobs, then block until at least one job has finished."""
        jobs, self._buffer = self._buffer, []
        self._pool.submit(jobs)
        return self._pool.collect()

    def close(self) -> None:
        """Stop the pool's processes."""
        self._pool.close()
