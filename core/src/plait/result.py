"""The outcome of running a job or a whole submission."""

from __future__ import annotations

import os
import traceback as tb
from pathlib import Path
from typing import Any

import attrs

from .errors import JobFailedError, failure_report


@attrs.frozen
class ErrorInfo:
    """A failure: exception type, message and formatted traceback, the job's label
    and the path of the error record in its cache directory."""

    type: str
    message: str
    traceback: str
    job: str = ""
    record: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException, job: str = "", record: str = "") -> ErrorInfo:
        """Record ``exc`` with its traceback."""
        return cls(
            type=type(exc).__name__,
            message=str(exc),
            traceback="".join(tb.format_exception(type(exc), exc, exc.__traceback__)),
            job=job,
            record=record,
        )


@attrs.frozen
class Runtime:
    """Resources a job used: wall and CPU seconds, peak resident memory (bytes).

    ``peak_rss`` is the peak of the process that ran the job (and of a shell
    task's command), as the operating system reports it.
    """

    wall: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0


@attrs.frozen
class Result:
    """What a job (or a submission) produced.

    ``outputs`` holds the output values (a dict for a job, the definition's
    outputs object for a submission); ``errored`` and ``errors`` say what
    failed; ``cache_dir`` is where the job's result lives; ``cached`` is True
    when it was read from the cache instead of run.
    """

    outputs: Any
    _cache_dir: str | None = attrs.field(
        default=None, alias="cache_dir", converter=lambda p: None if p is None else os.fspath(p)
    )
    errored: bool = False
    errors: tuple[ErrorInfo, ...] = ()
    runtime: Runtime = Runtime()
    cached: bool = False
    skipped: tuple[str, ...] = ()

    @classmethod
    def failure(
        cls, error: BaseException | str, label: str, cache_dir: str | os.PathLike[str] | None = None
    ) -> Result:
        """An errored Result for a failure outside the task's own code.

        For hosts: a job whose process died, whose host task was lost, or that
        can never be placed. ``error`` is the exception, or a message (recorded
        as a ``RuntimeError``).
        """
        if isinstance(error, str):
            info = ErrorInfo(type="RuntimeError", message=error, traceback=error, job=label)
        else:
            info = ErrorInfo.from_exception(error, label)
        return cls(outputs=None, cache_dir=cache_dir, errored=True, errors=(info,))

    @property
    def cache_dir(self) -> Path | None:
        """The job's cache directory (for a submission: its single job's, else None)."""
        return None if self._cache_dir is None else Path(self._cache_dir)

    def raise_for_errors(self) -> None:
        """Raise one JobFailedError listing the failed and skipped jobs, if any failed."""
        if self.errored:
            raise JobFailedError(failure_report(self.errors, self.skipped))
