"""The ``debug`` worker: runs jobs one at a time, in this process, in submission order."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from ..run import execute_job
from .base import Worker

if TYPE_CHECKING:
    from ..graph import Job
    from ..result import Result


class DebugWorker(Worker):
    """Serial and in-process: easy to debug (breakpoints, prints) and the default."""

    name = "debug"

    def __init__(self) -> None:
        self._queue: deque[Job] = deque()

    def submit(self, job: Job) -> None:
        """Queue ``job``; it runs on the next :meth:`wait`."""
        self._queue.append(job)

    def wait(self) -> list[tuple[Job, Result]]:
        """Run the oldest queued job and return it (the driver has checked the cache)."""
        job = self._queue.popleft()
        return [(job, execute_job(job))]
