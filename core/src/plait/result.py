"""The outcome of running a job or a whole submission."""

from __future__ import annotations

import os
import traceback as tb
from pathlib import Path
from typing import Any

import attrs

from .errors import JobFailedError


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

    @property
    def cache_dir(self) -> Path | None:
        """The job's cache directory (for a submission: its single job's, else None)."""
        return None if self._cache_dir is None else Path(self._cache_dir)

    def raise_for_errors(self) -> None:
        """Raise one JobFailedError listing the failed and skipped jobs, if any failed."""
        if not self.errored:
            return
        lines = [f"{len(self.errors)} job(s) failed"]
        if self.skipped:
            lines[0] += f", {len(self.skipped)} skipped because of them"
        for err in self.errors[:10]:
            where = f"{err.job}: " if err.job else ""
            record = f" (record: {err.record})" if err.record else ""
            lines.append(f"- {where}{err.type}: {err.message}{record}")
        if len(self.errors) > 10:
            lines.append(f"- ... and {len(self.errors) - 10} more")
        if self.skipped:
            shown = ", ".join(self.skipped[:10])
            more = f" ... and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
            lines.append(f"skipped: {shown}{more}")
        if self.errors:
            lines.append("first traceback:\n" + self.errors[0].traceback.rstrip())
        raise JobFailedError("\n".join(lines))
