"""Field specifications shared by every kind of definition."""

from __future__ import annotations

from typing import Any

import attrs


class _Missing:
    """Marker for an input that has not been given a value."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of an input that was not set (and has no default)."""


@attrs.frozen
class Field:
    """One input or output of a definition: its name, type, default and help text."""

    name: str
    type: Any = Any
    default: Any = MISSING
    help: str = ""

    @property
    def mandatory(self) -> bool:
        """True when the field has no default and so must be set."""
        return self.default is MISSING


@attrs.frozen
class LazyOut:
    """A reference to an output of an upstream workflow node, resolved at run time.

    ``type`` is what the connection delivers per job of the downstream node
    (a list type when the upstream node combined some of its axes).
    """

    node: str
    field: str
    type: Any = Any

    def __repr__(self) -> str:
        return f"{self.node}.{self.field}"


def is_lazy(value: Any) -> bool:
    """True if ``value`` is a lazy reference to an upstream node's output."""
    return type(value) is LazyOut
