"""Split/combine state as values: axes, splitters, combiners, joins (docs/design.md §3).

Everything plait knows about state lives here, as typed immutable values
parsed once from the user's syntax:

- :class:`Splitter` — ``.split()``'s argument parsed into axes of field names;
- :class:`Axis` — one dimension of a node's state (a field, or several zipped);
- :class:`NodeState` — a node's inherited axes (from split upstream nodes,
  slowest first), its own axes, the axes it combines, and own fields zipped
  with an inherited axis;
- :func:`node_state` — works a node's state out of its definition and its
  upstream nodes, raising :class:`~plait.errors.StateError` for every
  mistake at construction;
- :func:`join_rows` — the elements of a node's inherited state, as the
  natural join of its upstream nodes' output elements on shared axes
  (incrementally: the rows a newly finished element completes);
- :func:`own_product` — the jobs of one row: the product of the own axes.

A job is one element of the product of all axes, identified by its index
(one integer per axis). Example::

    >>> Splitter.parse(["a", ("b", "c")], "T").axes
    (('a',), ('b', 'c'))
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs

from .errors import StateError
from .fields import MISSING, is_lazy

__all__ = [
    "UNKNOWN",
    "Axis",
    "NodeState",
    "Splitter",
    "join_rows",
    "node_state",
    "own_product",
    "parse_combiner",
]

#: index value of an element whose own split could not be expanded (its input failed)
UNKNOWN = -1


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


@attrs.frozen
class Splitter:
    """A parsed splitter: its axes, each a tuple of field names.

    A name starting with ``_`` (``"_Up"``) stands for the state inherited from
    upstream node ``Up`` (Pydra's spelling). ``repr`` gives the user syntax back.
    """

    axes: tuple[tuple[str, ...], ...]

    @classmethod
    def parse(cls, splitter: Any, task: str) -> Splitter:
        """``"a"`` -> ``(("a",),)``; ``["a", "b"]`` -> ``(("a",), ("b",))``;
        ``("a", "b")`` -> ``(("a", "b"),)``; ``["a", ("b", "c")]`` -> ``(("a",), ("b", "c"))``."""
        if isinstance(splitter, Splitter):
            return splitter
        axes: list[tuple[str, ...]] = []

        def bad(why: str) -> StateError:
            return StateError(f"{task}: bad splitter {splitter!r}: {why}")

        def scalar_fields(item: Any) -> tuple[str, ...]:
            if isinstance(item, str):
                return (item,)
            if isinstance(item, tuple):
                names: list[str] = []
                for sub in item:
                    if isinstance(sub, list):
                        raise bad(
                            "an outer splitter (list) cannot be nested inside a scalar (tuple)"
                        )
                    names.extend(scalar_fields(sub))
                return tuple(names)
            raise bad("expected field names")

        def walk(item: Any) -> None:
            if isinstance(item, str):
                axes.append((item,))
            elif isinstance(item, list):
                if not item:
                    raise bad("empty list")
                for sub in item:
                    walk(sub)
            elif isinstance(item, tuple):
                if not item:
                    raise bad("empty tuple")
                axes.append(scalar_fields(item))
            else:
                raise bad("expected a field name, a list (outer) or a tuple (scalar) of them")

        walk(splitter)
        seen: set[str] = set()
        for ax in axes:
            for name in ax:
                if name in seen:
                    raise bad(f"field {name!r} appears twice")
                seen.add(name)
        return cls(tuple(axes))

    @property
    def fields(self) -> tuple[str, ...]:
        """The node's own split fields (references to inherited state left out)."""
        return tuple(f for ax in self.axes for f in ax if not f.startswith("_"))

    def __repr__(self) -> str:
        parts = [ax[0] if len(ax) == 1 else ax for ax in self.axes]
        return repr(parts[0] if len(parts) == 1 else parts)


def parse_combiner(combiner: str | Sequence[str], task: str) -> tuple[str, ...]:
    """Normalise a combiner into a tuple of (possibly qualified) field names."""
    if isinstance(combiner, str):
        return (combiner,)
    if isinstance(combiner, (list, tuple)) and all(isinstance(c, str) for c in combiner):
        if not combiner:
            raise StateError(f"{task}: empty combiner")
        return tuple(combiner)
    raise StateError(f"{task}: bad combiner {combiner!r}: expected a field name or a list of them")


@attrs.frozen
class NodeState:
    """A node's state: inherited axes (slowest), own axes, combined axes, zipped fields.

    ``zipped`` pairs own fields with the inherited axis they are aligned with
    (``split(("_Up", "b"))``): such a field takes one element per element of
    that axis and adds no axis of its own.
    """

    inherited: tuple[Axis, ...] = ()
    own: tuple[Axis, ...] = ()
    combined: tuple[Axis, ...] = ()
    zipped: tuple[tuple[str, Axis], ...] = ()
    #: positions of the axes that remain after the combine (derived once)
    kept: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    #: for each axis, the slice of a job's state pairs that belong to it (derived once)
    spans: tuple[tuple[int, int], ...] = attrs.field(init=False, eq=False, repr=False)
    #: the spans of the kept axes (derived once)
    kept_spans: tuple[tuple[int, int], ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        kept = tuple(i for i, ax in enumerate(self.axes) if ax not in self.combined)
        object.__setattr__(self, "kept", kept)
        spans, pos = [], 0
        for ax in self.axes:
            spans.append((pos, pos + len(ax.fields)))
            pos += len(ax.fields)
        object.__setattr__(self, "spans", tuple(spans))
        object.__setattr__(self, "kept_spans", tuple(spans[i] for i in kept))

    @property
    def axes(self) -> tuple[Axis, ...]:
        """Inherited then own axes: the positions of a job's index."""
        return self.inherited + self.own

    @property
    def out_axes(self) -> tuple[Axis, ...]:
        """Axes that remain after the combine (what downstream nodes inherit)."""
        return tuple(ax for ax in self.axes if ax not in self.combined)

    @property
    def combines_inherited(self) -> bool:
        """True if an output element gathers jobs of several inherited elements."""
        return any(ax in self.combined for ax in self.inherited)

    @property
    def combines_all_own(self) -> bool:
        """True if every own axis is combined (one output element per inherited element)."""
        return all(ax in self.combined for ax in self.own)

    def out_key(self, index: Sequence[int]) -> tuple[int, ...]:
        """The output element a job at ``index`` belongs to."""
        if len(self.kept) == len(index):
            return tuple(index)
        return tuple(index[i] for i in self.kept)

    def positions(self, upstream_axes: Sequence[Axis]) -> tuple[int, ...]:
        """Where each of an upstream node's output axes sits among the inherited axes."""
        return tuple(self.inherited.index(ax) for ax in upstream_axes)


class _HasState(Protocol):
    @property
    def out_axes(self) -> tuple[Axis, ...]: ...


def resolve_combined(
    axes: Sequence[Axis],
    combiner: tuple[str, ...],
    node: str,
    zipped: Mapping[str, Axis] | None = None,
) -> tuple[Axis, ...]:
    """The axes named by ``combiner`` (``"a"`` for own fields, ``"Node.a"`` for inherited)."""
    combined: list[Axis] = []
    for name in combiner:
        owner, _, field = name.rpartition(".")
        owner = owner or node
        match = [ax for ax in axes if ax.node == owner and field in ax.fields]
        if not match and zipped and owner == node and field in zipped:
            match = [zipped[field]]
        if not match:
            split_names = ", ".join(ax.name for ax in axes) or "none"
            hint = ""
            if owner == node:
                inherited = [ax for ax in axes if ax.node != node and field in ax.fields]
                if inherited:
                    hint = (
                        f"; {field!r} is inherited from {inherited[0].node}: "
                        f"combine({inherited[0].node + '.' + field!r})"
                    )
            raise StateError(
                f"{node}: cannot combine {name!r}: it is not split (split axes: {split_names})"
                + hint
            )
        if match[0] not in combined:
            combined.append(match[0])
    return tuple(combined)


def node_state(
    name: str,
    splitter: Splitter | None,
    combiner: tuple[str, ...],
    values: Mapping[str, Any],
    existing: Mapping[str, _HasState],
) -> NodeState:
    """Work out a node's state from its splitter, combiner, input values and upstream nodes.

    ``values`` are the node's inputs (lazy references for connections);
    ``existing`` the nodes added before it, by name. Raises for bad
    splitters and combiners, unequal scalar lengths and combines that make
    no sense.
    """
    upstream = list(dict.fromkeys(v.node for v in values.values() if is_lazy(v)))
    inherited: list[Axis] = []
    for u in upstream:
        for ax in existing[u].out_axes:
            if ax not in inherited:
                inherited.append(ax)
    own: list[Axis] = []
    zipped: list[tuple[str, Axis]] = []
    for fields in splitter.axes if splitter is not None else ():
        refs = [f for f in fields if f.startswith("_")]
        own_fields = tuple(f for f in fields if not f.startswith("_"))
        if not refs:
            sources = [values[f] for f in own_fields if is_lazy(values[f])]
            parents = {
                p for v in sources for a in existing[v.node].out_axes for p in (a, *a.parents)
            }
            own.append(Axis(name, own_fields, tuple(a for a in inherited if a in parents)))
        elif len(fields) == 1:
            _check_inherited_first(name, refs[0], own, existing, inherited)
        else:
            zipped.extend(_zip_inherited(name, refs, own_fields, fields, existing, inherited))
    for ax in own:
        check_scalar_lengths(name, ax.fields, values)
    all_axes = [*inherited, *own]
    combined = resolve_combined(all_axes, combiner, name, dict(zipped))
    for ax in all_axes:
        lost = [p for p in ax.parents if p in combined]
        if lost and ax not in combined:
            raise StateError(
                f"{name}: cannot combine {lost[0].name} while keeping {ax.name}, "
                f"which is split inside each element of {lost[0].name}"
            )
    return NodeState(tuple(inherited), tuple(own), combined, tuple(zipped))


def check_scalar_lengths(name: str, fields: Sequence[str], values: Mapping[str, Any]) -> None:
    """Raise if the known values of a scalar (zipped) axis have unequal lengths."""
    lengths = {
        f: len(values[f])
        for f in fields
        if not is_lazy(values[f]) and values[f] is not MISSING and hasattr(values[f], "__len__")
    }
    if len(fields) > 1 and len(set(lengths.values())) > 1:
        raise StateError(
            f"{name}: scalar splitter {tuple(fields)!r} needs equal lengths, got "
            + ", ".join(f"{f}={n}" for f, n in lengths.items())
        )


def _check_inherited_first(
    name: str, ref: str, own: list[Axis], existing: Mapping[str, _HasState], inherited: list[Axis]
) -> None:
    """``["_Up", "b"]``: Pydra's explicit form of the default, inherited axes first."""
    up = ref[1:]
    if up not in existing or not any(a in inherited for a in existing[up].out_axes):
        raise StateError(
            f"{name}: splitter refers to {ref!r}, but this node inherits no state from "
            f"{up!r} (connect one of its outputs)"
        )
    if own:
        raise StateError(
            f"{name}: {ref!r} must come first in an outer splitter: inherited axes always "
            f"vary slowest (write [{ref!r}, ...])"
        )


def _zip_inherited(
    name: str,
    refs: list[str],
    own_fields: tuple[str, ...],
    fields: tuple[str, ...],
    existing: Mapping[str, _HasState],
    inherited: list[Axis],
) -> list[tuple[str, Axis]]:
    """``("_Up", "b")``: align own fields with the single axis inherited from ``Up``."""
    if len(refs) > 1 or not own_fields:
        raise StateError(
            f"{name}: scalar splitter {fields!r} zips inherited states with each other; "
            "inherited states are combined as an outer product"
        )
    up = refs[0][1:]
    if up not in existing:
        raise StateError(f"{name}: splitter refers to {refs[0]!r}, but there is no node {up!r}")
    axes = [ax for ax in existing[up].out_axes if ax in inherited]
    if not axes:
        raise StateError(
            f"{name}: splitter refers to {refs[0]!r}, but this node inherits no state from "
            f"{up!r} (connect one of its outputs)"
        )
    if len(axes) != 1:
        raise StateError(
            f"{name}: scalar splitter {fields!r} has no meaning: {up} has "
            f"{len(axes)} axes ({', '.join(a.name for a in axes)}), and a scalar splitter "
            "aligns elements of one axis"
        )
    return [(f, axes[0]) for f in own_fields]


class _Keyed(Protocol):
    @property
    def index(self) -> tuple[int, ...]: ...


def join_rows(
    upstream: Sequence[tuple[str, tuple[int, ...], Iterable[_Keyed]]],
) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
    """Rows of the inherited state: the natural join of upstream elements on shared axes.

    ``upstream`` gives, per upstream node in order, its name, the positions
    of its output axes among the node's inherited axes and its elements.
    Independent axes give their outer product. Yields ``(index over the
    inherited axes, {upstream name: element})`` in index order.
    """
    if not upstream:
        yield (), {}
        return
    joiner = Joiner([(name, positions) for name, positions, _ in upstream])
    rows = [row for name, _, elements in upstream for e in elements for row in joiner.add(name, e)]
    rows.sort(key=lambda row: row[0])
    yield from rows


def own_product(
    name: str, own: Sequence[Axis], values: Mapping[str, Any]
) -> Iterator[tuple[tuple[int, ...], list[tuple[Any, ...]]]]:
    """Each combination of the own axes: (own indices, per-axis tuples of field values)."""
    per_axis: list[list[tuple[Any, ...]]] = []
    for ax in own:
        seqs = []
        for f in ax.fields:
            seq = values[f]
            if not isinstance(seq, (list, tuple)) and not hasattr(seq, "__len__"):
                raise StateError(
                    f"{name}.{f}: split values must be a list, got {type(seq).__name__}"
                )
            seqs.append(list(seq))
        check_scalar_lengths(name, ax.fields, dict(zip(ax.fields, seqs)))
        per_axis.append(list(zip(*seqs)) if seqs else [])
    if not per_axis:
        yield (), []
        return
    for combo in itertools.product(*(range(len(p)) for p in per_axis)):
        yield combo, [per_axis[i][c] for i, c in enumerate(combo)]


class Joiner:
    """The incremental form of :func:`join_rows`, for a driver that releases per element.

    ``add(upstream, element)`` returns the rows of the inherited state that
    the new element completes: those whose other elements have all arrived.
    Each row is returned exactly once (when its last element arrives).
    Lookups use per-upstream hash indexes on the shared axes, so each new
    element costs what the rows it completes cost.
    """

    def __init__(self, upstream: Sequence[tuple[str, tuple[int, ...]]]) -> None:
        self.upstream = list(upstream)
        self._positions = dict(self.upstream)
        self._direct = len(self.upstream) == 1 and self.upstream[0][1] == tuple(
            range(len(self.upstream[0][1]))
        )
        self._avail: dict[str, list[Any]] = {u: [] for u, _ in self.upstream}
        # (upstream, indices into its positions already assigned) -> key -> elements
        self._indexes: dict[tuple[str, tuple[int, ...]], dict[tuple[int, ...], list[Any]]] = {}

    def add(self, name: str, element: _Keyed) -> list[tuple[tuple[int, ...], dict[str, Any]]]:
        """Record ``element`` of upstream ``name``; return the rows it completes."""
        first = self._positions[name]
        if self._direct:  # one upstream whose axes are the inherited ones, in order
            return [(element.index, {name: element})]
        rows: list[tuple[dict[int, int], dict[str, Any]]] = [
            ({p: element.index[k] for k, p in enumerate(first)}, {name: element})
        ]
        assigned = set(first)
        for other, positions in self.upstream:
            if other == name or not rows:
                continue
            shared = tuple(k for k, p in enumerate(positions) if p in assigned)
            index = self._index(other, shared)
            new_rows = []
            for row, items in rows:
                for elem in index.get(tuple(row[positions[k]] for k in shared), ()):
                    new_row = dict(row)
                    for k, p in enumerate(positions):
                        new_row[p] = elem.index[k]
                    new_rows.append((new_row, {**items, other: elem}))
            rows = new_rows
            assigned.update(positions)
        self._avail[name].append(element)
        for (owner, shared), index in self._indexes.items():
            if owner == name:
                index.setdefault(tuple(element.index[k] for k in shared), []).append(element)
        return [(tuple(row[p] for p in sorted(row)), items) for row, items in rows]

    def _index(self, name: str, shared: tuple[int, ...]) -> dict[tuple[int, ...], list[Any]]:
        index = self._indexes.get((name, shared))
        if index is None:
            index = self._indexes[(name, shared)] = {}
            for elem in self._avail[name]:
                index.setdefault(tuple(elem.index[k] for k in shared), []).append(elem)
        return index
