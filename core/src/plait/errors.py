"""Exceptions users see. Each names the task, the field and what was expected."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class PlaitError(Exception):
    """Base class of every error plait raises on purpose."""


class DefinitionError(PlaitError, TypeError):
    """A task or workflow definition is malformed (bad template, bad annotation)."""


class InputError(PlaitError, TypeError):
    """An input value is missing, unknown or of the wrong type."""


class StateError(PlaitError, ValueError):
    """A splitter or combiner is invalid, or split values do not fit together."""


class GraphError(PlaitError, ValueError):
    """A workflow graph is malformed: cycles, unknown nodes or outputs, bad connections."""


class NotANodeError(GraphError, AttributeError):
    """An output was read from a task definition, not from a workflow node
    (``Inc(x=x).out`` instead of ``workflow.add(Inc(x=x)).out``)."""


class JobFailedError(PlaitError, RuntimeError):
    """One or more jobs failed; lists the failed jobs, their errors and the skipped ones."""


def failure_report(errors: Sequence[Any], skipped: Sequence[str] = (), limit: int = 10) -> str:
    """The one text that reports failed jobs (``ErrorInfo`` s) and the ones skipped for them.

    ``N job(s) failed, M skipped because of them``, one line per failure
    (label, exception, where its record is), the skipped labels, and the
    first traceback. Used by ``Result.raise_for_errors`` and by every host.
    """
    head = f"{len(errors)} job(s) failed"
    if skipped:
        head += f", {len(skipped)} skipped because of them"
    lines = [head]
    for err in errors[:limit]:
        where = f"{err.job}: " if err.job else ""
        record = f" (record: {err.record})" if err.record else ""
        lines.append(f"- {where}{err.type}: {err.message}{record}")
    if len(errors) > limit:
        lines.append(f"- ... and {len(errors) - limit} more")
    if skipped:
        shown = ", ".join(skipped[:limit])
        more = f" ... and {len(skipped) - limit} more" if len(skipped) > limit else ""
        lines.append(f"skipped: {shown}{more}")
    if errors:
        lines.append("first traceback:\n" + errors[0].traceback.rstrip())
    return "\n".join(lines)
