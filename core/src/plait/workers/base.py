"""The interface every worker implements for the shared driver."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..driver import Progress
    from ..graph import Graph, Job
    from ..result import Result


class Worker(abc.ABC):
    """Runs jobs for the driver.

    ``submit`` starts a job; ``wait`` blocks until at least one submitted
    job has finished and returns the finished ``(job, result)`` pairs, with
    the very Job objects that were submitted. A worker never raises for a
    job's own failure: it returns a Result with ``errored=True``. ``start``
    and ``report`` are optional notifications from the driver.
    """

    name: ClassVar[str] = ""

    @abc.abstractmethod
    def submit(self, job: Job) -> None:
        """Start running ``job``."""

    @abc.abstractmethod
    def wait(self) -> list[tuple[Job, Result]]:
        """Block until at least one submitted job has finished; return the finished ones."""

    def start(self, graph: Graph) -> None:  # noqa: B027 - optional hook
        """The driver is about to run ``graph`` (e.g. to name a host run after it)."""

    def report(self, event: Progress) -> None:  # noqa: B027 - optional hook
        """A progress event of the run (jobs served from the cache never reach ``submit``)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the worker's resources (processes, clusters)."""

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
