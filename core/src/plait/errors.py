"""Exceptions users see. Each names the task, the field and what was expected."""

from __future__ import annotations


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
