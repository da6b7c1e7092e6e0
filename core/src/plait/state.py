"""Split/combine state modelled as axes (docs/design.md §3).

A node's state is an ordered list of :class:`Axis`. Inherited axes (from
split upstream nodes) come first, slowest; the node's own splitter adds
more. A job is one element of the product of the axes. ``combine`` removes
axes, grouping their elements into lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .errors import StateError

Splitter = str | tuple["Splitter", ...] | list["Splitter"]


@attrs.frozen
class Axis:
    """One dimension of a node's state: the fields of ``node`` it iterates together.

    An outer splitter makes one axis per field; a scalar (zipped) splitter
    makes a single axis over several fields.
    """

    node: str
    fields: tuple[str, ...]
    #: axes this one is nested inside: its length may differ per element of them
    #: (a split over upstream outputs that are lists)
    parents: tuple[Axis, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def name(self) -> str:
        """Readable name, e.g. ``Node.a`` or ``Node.(a,b)``."""
        inner = self.fields[0] if len(self.fields) == 1 else "(" + ",".join(self.fields) + ")"
        return f"{self.node}.{inner}"

    def __repr__(self) -> str:
        return self.name


def parse_splitter(splitter: Any, task: str) -> tuple[tuple[str, ...], ...]:
    """Normalise a splitter into a tuple of axes, each a tuple of field names.

    ``"a"`` -> ``(("a",),)``; ``["a", "b"]`` -> ``(("a",), ("b",))``;
    ``("a", "b")`` -> ``(("a", "b"),)``; ``["a", ("b", "c")]`` ->
    ``(("a",), ("b", "c"))``.
    """
    axes: list[tuple[str, ...]] = []

    def scalar_fields(item: Any) -> tuple[str, ...]:
        if isinstance(item, str):
            return (item,)
        if isinstance(item, tuple):
            names: list[str] = []
            for sub in item:
                if isinstance(sub, (list,)):
                    raise StateError(
                        f"{task}: bad splitter {splitter!r}: an outer splitter (list) "
                        "cannot be nested inside a scalar splitter (tuple)"
                    )
                names.extend(scalar_fields(sub))
            return tuple(names)
        raise StateError(f"{task}: bad splitter {splitter!r}: expected field names")

    def walk(item: Any) -> None:
        if isinstance(item, str):
            axes.append((item,))
        elif isinstance(item, list):
            if not item:
                raise StateError(f"{task}: bad splitter {splitter!r}: empty list")
            for sub in item:
                walk(sub)
        elif isinstance(item, tuple):
            if len(item) < 1:
                raise StateError(f"{task}: bad splitter {splitter!r}: empty tuple")
            axes.append(scalar_fields(item))
        else:
            raise StateError(
                f"{task}: bad splitter {splitter!r}: expected a field name, a list (outer) "
                "or a tuple (scalar) of them"
            )

    walk(splitter)
    seen: set[str] = set()
    for ax in axes:
        for name in ax:
            if name in seen:
                raise StateError(f"{task}: bad splitter {splitter!r}: field {name!r} appears twice")
            seen.add(name)
    return tuple(axes)


def parse_combiner(combiner: str | Sequence[str], task: str) -> tuple[str, ...]:
    """Normalise a combiner into a tuple of (possibly qualified) field names."""
    if isinstance(combiner, str):
        return (combiner,)
    if isinstance(combiner, (list, tuple)) and all(isinstance(c, str) for c in combiner):
        if not combiner:
            raise StateError(f"{task}: empty combiner")
        return tuple(combiner)
    raise StateError(f"{task}: bad combiner {combiner!r}: expected a field name or a list of them")


def resolve_combined(
    axes: Sequence[Axis],
    combiner: tuple[str, ...],
    node: str,
    zipped: Mapping[str, Axis] | None = None,
) -> tuple[Axis, ...]:
    """The axes named by ``combiner`` (``"a"`` for own fields, ``"Node.a"`` for inherited).

    ``zipped`` maps own fields aligned with an inherited axis to that axis.
    """
    combined: list[Axis] = []
    for name in combiner:
        owner, _, field = name.rpartition(".")
        owner = owner or node
        match = [ax for ax in axes if ax.node == owner and field in ax.fields]
        if not match and zipped and owner == node and field in zipped:
            match = [zipped[field]]
        if not match:
            split_names = ", ".join(f"{ax.name}" for ax in axes) or "none"
            raise StateError(
                f"{node}: cannot combine {name!r}: it is not split (split axes: {split_names})"
            )
        if match[0] not in combined:
            combined.append(match[0])
    return tuple(combined)


def state_label(axes: Sequence[Axis], values: Sequence[Sequence[Any]]) -> str:
    """``p=3`` / ``a=1,b=x`` for one job: each axis field with its value, shortened."""
    parts = []
    for ax, vals in zip(axes, values):
        for field, val in zip(ax.fields, vals):
            parts.append(f"{field}={short_repr(val)}")
    return ",".join(parts)


def short_repr(value: Any, limit: int = 24) -> str:
    """A short readable rendering of a value for labels (long values elided)."""
    fspath = getattr(value, "fspath", None)
    if fspath is not None and not isinstance(value, str):
        text = getattr(fspath, "name", str(fspath))
    elif isinstance(value, str):
        text = value
    else:
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
