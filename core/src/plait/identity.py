"""Checksums of definitions and jobs (docs/design.md §4).

A definition's identity covers its kind, module and name, its outputs, and
what decides its behaviour: a Python function's code with the values of the
globals and closure variables it reads, a shell task's full command
template, a workflow constructor's code. A job's checksum is the hash of
that identity and every input value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .hashing import HASH_FORMAT_VERSION, bytes_repr, hash_object
from .typecheck import type_name

if TYPE_CHECKING:
    from .definition import TaskDef


def definition_identity(cls: type[TaskDef]) -> str:
    """The identity hash of a definition class (recomputed on each call).

    The kind-specific part (function code, command template, ...) comes from
    the class's ``_identity_parts()``.
    """
    outputs = [(n, type_name(f.type)) for n, f in cls._outputs.items()]
    parts: list[Any] = [
        HASH_FORMAT_VERSION,
        cls._kind,
        cls.__module__,
        cls.__qualname__,
        list(cls._inputs),
        outputs,
        *cls._identity_parts(),
    ]
    return hash_object(parts)


def job_checksum(identity: str, values: Sequence[Any]) -> str:
    """The checksum of a job: its definition's identity and its input values in field order."""
    return hash_object((identity, values))


def _definition_class_repr(cls: type) -> Iterator[bytes]:
    yield b"plait-definition:"
    yield definition_identity(cls).encode()


def register_definition_hashing() -> None:
    """Make a definition *class* hash as its identity (so a workflow that uses a
    task changes its hash when the task's code does)."""
    from .definition import TaskDef

    original = bytes_repr.dispatch(type)

    @bytes_repr.register(type)
    def _type_or_definition(obj: type) -> Iterator[bytes]:
        if isinstance(obj, type) and issubclass(obj, TaskDef) and hasattr(obj, "_outputs_class"):
            yield from _definition_class_repr(obj)
        else:
            yield from original(obj)
