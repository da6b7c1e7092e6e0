"""The compiled graph: the contract between the core and every host (docs/design.md §5).

``compile(defn)`` turns a definition into a :class:`Graph` of nodes in
topological order. ``graph.jobs(node, upstream)`` expands a node into its
:class:`Job` s once its upstream nodes' outputs are known;
``graph.collect(node, jobs, results)`` applies the node's combine and gives
the :class:`NodeOutput` downstream nodes read.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .definition import TaskDef
from .errors import GraphError, StateError
from .fields import MISSING, is_lazy
from .identity import definition_identity, job_checksum
from .resources import Resources
from .state import Axis, parse_splitter, resolve_combined, short_repr
from .typecheck import check_value
from .workflow import WorkflowDef, check_complete

__all__ = ["Element", "Graph", "Job", "Node", "NodeOutput", "SkippedJob", "compile", "node_state"]

#: index value of an element whose own split could not be expanded (its input failed)
UNKNOWN = -1


@attrs.frozen
class Node:
    """One node of a compiled graph: a definition, its connections and its state."""

    name: str
    definition: TaskDef
    upstream: tuple[str, ...]
    inherited: tuple[Axis, ...]
    own: tuple[Axis, ...]
    combined: tuple[Axis, ...]
    zipped: tuple[tuple[str, Axis], ...] = ()
    requested: Resources | None = None

    @property
    def kind(self) -> str:
        """``python``, ``shell`` or ``workflow``."""
        return self.definition._kind

    @property
    def axes(self) -> tuple[Axis, ...]:
        """Inherited then own axes."""
        return self.inherited + self.own

    @property
    def out_axes(self) -> tuple[Axis, ...]:
        """Axes that remain after the combine (what downstream nodes inherit)."""
        return tuple(ax for ax in self.axes if ax not in self.combined)

    @property
    def resources(self) -> Resources | None:
        """Resources each job of this node needs: set on the node, else on its definition."""
        return self.requested or type(self.definition)._resources

    @property
    def is_split(self) -> bool:
        """True when the node runs more than one job (it has axes)."""
        return bool(self.axes)


@attrs.frozen(slots=True, weakref_slot=False)
class Element:
    """One element of a node's output state.

    ``index`` over the node's remaining axes; ``outputs`` by field (lists for
    a combining node; None if unavailable); ``labels``, the state label piece
    of each axis; ``ok``, whether every job behind it succeeded; ``jobs``, the
    checksums of those jobs.
    """

    index: tuple[int, ...]
    outputs: dict[str, Any] | None
    labels: tuple[str, ...]
    ok: bool
    jobs: tuple[str, ...] = ()


@attrs.frozen
class NodeOutput:
    """A finished node's outputs: one :class:`Element` per element of its remaining axes."""

    node: str
    axes: tuple[Axis, ...]
    items: tuple[Element, ...]

    def values(self, field: str) -> Any:
        """The output ``field`` shaped for a workflow output (docs/design.md §3).

        Without axes: the single value. Otherwise one flat list over the
        remaining elements (each a list if the node combined some axes);
        failed elements are None.
        """
        if not self.axes:
            outs = self.items[0].outputs if self.items else None
            return None if outs is None else outs.get(field)
        return [None if e.outputs is None else e.outputs.get(field) for e in self.items]

    @property
    def ok(self) -> bool:
        """True if every element succeeded."""
        return all(e.ok for e in self.items)


@attrs.frozen(slots=True, weakref_slot=False)
class Job:
    """One job: a node at one state index, inputs resolved, checksum and cache dir known."""

    node: str
    index: tuple[int, ...]
    state_label: str
    checksum: str
    cache_dir: str
    definition: TaskDef
    upstream: tuple[str, ...] = ()
    readonly_caches: tuple[str, ...] = ()
    resources: Resources | None = None
    environment: Any = None

    @property
    def kind(self) -> str:
        """``python``, ``shell`` or ``workflow``."""
        return self.definition._kind

    @property
    def label(self) -> str:
        """``Node[p=3]``, or ``Node`` for a job without state: used as host-native name."""
        return f"{self.node}[{self.state_label}]" if self.state_label else self.node

    @property
    def path(self) -> Path:
        """The job's cache directory as a Path."""
        return Path(self.cache_dir)

    def __repr__(self) -> str:
        return f"<Job {self.label} {self.kind}-{self.checksum[:12]}>"


@attrs.frozen
class SkippedJob:
    """An element that was not run because an input it needs failed."""

    node: str
    state_label: str
    reason: str
    index: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``Node[state]`` of the skipped element."""
        return f"{self.node}[{self.state_label}]" if self.state_label else self.node


class Graph:
    """A picklable DAG of nodes in topological order, and the workflow's outputs.

    ``cache_root`` and ``readonly_caches`` decide where jobs are cached.
    """

    def __init__(
        self,
        name: str,
        nodes: Iterable[Node],
        outputs: Mapping[str, Any],
        cache_root: str | os.PathLike[str],
        readonly_caches: Sequence[str | os.PathLike[str]] = (),
        definition: TaskDef | None = None,
        environment: Any = None,
    ) -> None:
        self.name = name
        self.environment = environment
        self.nodes: dict[str, Node] = _topological({n.name: n for n in nodes})
        self.outputs_spec = dict(outputs)
        self.cache_root = str(Path(cache_root).absolute())
        self.readonly_caches = tuple(str(Path(p).absolute()) for p in readonly_caches)
        self.definition = definition
        self._identities = {
            name: definition_identity(type(node.definition)) for name, node in self.nodes.items()
        }

    def __repr__(self) -> str:
        return f"<Graph {self.name}: {', '.join(self.nodes)}>"

    # -- expansion ----------------------------------------------------------
    def static_jobs(self, name: str) -> list[Job] | None:
        """The node's jobs if they are known now (no upstream nodes), else None."""
        node = self.nodes[name]
        if node.upstream:
            return None
        return self.jobs(name, {})

    def jobs(self, name: str, upstream: Mapping[str, NodeOutput]) -> list[Job]:
        """The node's jobs given its upstream nodes' outputs (skipped elements left out)."""
        return self.expand(name, upstream)[0]

    def expand(
        self, name: str, upstream: Mapping[str, NodeOutput]
    ) -> tuple[list[Job], list[SkippedJob]]:
        """The node's jobs, and the elements skipped because an input they need failed."""
        node = self.nodes[name]
        missing = [u for u in node.upstream if u not in upstream]
        if missing:
            raise GraphError(f"{name}: outputs of upstream node(s) {missing} are needed first")
        defn = node.definition
        identity = self._identities[name]
        cls = type(defn)
        fields = list(defn._inputs)
        base = defn.input_values()
        lazy = {f: v for f, v in base.items() if is_lazy(v)}
        own_fields = [f for ax in node.own for f in ax.fields]
        zipped = dict(node.zipped)
        jobs: list[Job] = []
        skipped: list[SkippedJob] = []
        for index, labels, items, sums, ok in _join(node, upstream):
            prefix = ",".join(labels)
            if not ok:
                reason = "an input it needs failed"
                skipped.append(SkippedJob(name, prefix, reason, index, labels))
                continue
            values = dict(base)
            for field, ref in lazy.items():
                value = items[ref.node][ref.field]
                if field not in own_fields and field not in zipped:
                    value = _check_runtime(name, defn, field, value)
                values[field] = value
            for field, axis in zipped.items():
                pos = node.inherited.index(axis)
                seq = values[field]
                values[field] = seq[index[pos]]
            upstream_sums = tuple(dict.fromkeys(sums))
            for own_index, own_values in _own_product(node, values):
                job_values = dict(values)
                own_labels = []
                for ax, elems in zip(node.own, own_values):
                    for f, v in zip(ax.fields, elems):
                        if f in lazy:
                            v = _check_runtime(name, defn, f, v)
                        job_values[f] = v
                        own_labels.append(f"{f}={short_repr(v)}")
                for f in zipped:
                    own_labels.append(f"{f}={short_repr(job_values[f])}")
                job_defn = _instance(cls, job_values)
                checksum = job_checksum(identity, [job_values[f] for f in fields])
                kind = defn._kind
                label = ",".join([*labels, *own_labels])
                jobs.append(
                    Job(
                        node=name,
                        index=index + own_index,
                        state_label=label,
                        checksum=checksum,
                        cache_dir=os.path.join(self.cache_root, f"{kind}-{checksum}"),
                        definition=job_defn,
                        upstream=upstream_sums,
                        readonly_caches=self.readonly_caches,
                        resources=node.resources,
                        environment=self.environment,
                    )
                )
        return jobs, skipped

    # -- collection ---------------------------------------------------------
    def collect(
        self,
        name: str,
        jobs: Sequence[Job],
        results: Sequence[Any],
        skipped: Sequence[SkippedJob] = (),
    ) -> NodeOutput:
        """Apply the node's combine to its jobs' results (``Result`` objects, same order).

        ``skipped`` elements (from :meth:`expand`) count as failed; their own
        split, never expanded, shows as one element.
        """
        node = self.nodes[name]
        axes = node.axes
        keep = [i for i, ax in enumerate(axes) if ax not in node.combined]
        members: list[tuple[tuple[int, ...], Job | SkippedJob, Any]] = [
            (job.index, job, result) for job, result in zip(jobs, results)
        ]
        if skipped:
            pad = (UNKNOWN,) * len(node.own)
            members.extend((s.index + pad, s, None) for s in skipped)
            members.sort(key=lambda m: m[0])
        groups: dict[tuple[int, ...], list[tuple[Job | None, Any]]] = {}
        labels: dict[tuple[int, ...], tuple[str, ...]] = {}
        for index, member, result in members:
            key = tuple(index[i] for i in keep)
            group = groups.get(key)
            if group is None:
                group = groups[key] = []
                if isinstance(member, Job):
                    labels[key] = _axis_labels(member, axes, keep)
                else:
                    pieces = (*member.labels, *("?" for _ in node.own))
                    labels[key] = tuple(pieces[i] for i in keep)
            group.append((member if isinstance(member, Job) else None, result))
        out_fields = list(node.definition._outputs)
        items: list[Element] = []
        if node.combined:
            for key, group in groups.items():
                ok = all(r is not None and not r.errored for _, r in group)
                lists = {
                    f: [None if r is None or r.outputs is None else r.outputs[f] for _, r in group]
                    for f in out_fields
                }
                sums = tuple(j.checksum for j, _ in group if j is not None)
                items.append(Element(key, lists, labels[key], ok, sums))
            if not groups and not keep:
                items.append(Element((), {f: [] for f in out_fields}, (), True, ()))
        else:
            for key, group in groups.items():
                job, r = group[0]
                ok = r is not None and not r.errored and r.outputs is not None
                sums = (job.checksum,) if job is not None else ()
                # a failed workflow job keeps its partial outputs (its failed parts are None)
                outs = r.outputs if r is not None else None
                items.append(Element(key, outs, labels[key], ok, sums))
        return NodeOutput(node=name, axes=tuple(axes[i] for i in keep), items=tuple(items))

    def failed_output(self, name: str) -> NodeOutput:
        """The output of a node that could not be expanded at all: one failed element."""
        node = self.nodes[name]
        n = len(node.out_axes)
        return NodeOutput(
            node=name,
            axes=node.out_axes,
            items=(Element((UNKNOWN,) * n, None, ("?",) * n, False, ()),),
        )

    def outputs(self, node_outputs: Mapping[str, NodeOutput]) -> dict[str, Any]:
        """The workflow's outputs from its nodes' outputs, shaped as docs/design.md §3 says."""
        out: dict[str, Any] = {}
        for name, ref in self.outputs_spec.items():
            if is_lazy(ref):
                out[name] = node_outputs[ref.node].values(ref.field)
            else:
                out[name] = ref
        return out

    # -- pictures (plait.graphviz) -------------------------------------------
    def to_dot(self, status: Mapping[str, str] | None = None) -> str:
        """Graphviz DOT text of this graph (see :func:`plait.graphviz.to_dot`)."""
        from .graphviz import to_dot

        return to_dot(self, status)

    def to_mermaid(self, status: Mapping[str, str] | None = None) -> str:
        """A Mermaid flowchart of this graph (see :func:`plait.graphviz.to_mermaid`)."""
        from .graphviz import to_mermaid

        return to_mermaid(self, status)

    def visualize(
        self, filename: str | os.PathLike[str], status: Mapping[str, str] | None = None
    ) -> Path:
        """Write a picture of this graph; the suffix picks the format (:func:`plait.graphviz.visualize`)."""
        from .graphviz import visualize

        return visualize(self, filename, status)


def _axis_labels(job: Job, axes: Sequence[Axis], keep: Sequence[int]) -> tuple[str, ...]:
    # The job's state label lists fields in axis order; pick the pieces of kept axes.
    pieces = job.state_label.split(",") if job.state_label else []
    out = []
    pos = 0
    spans = []
    for ax in axes:
        spans.append((pos, pos + len(ax.fields)))
        pos += len(ax.fields)
    for i in keep:
        a, b = spans[i]
        out.append(",".join(pieces[a:b]))
    return tuple(out)


def _check_runtime(node: str, defn: TaskDef, field: str, value: Any) -> Any:
    spec = defn._inputs[field]
    try:
        return check_value(value, spec.type)
    except TypeError as e:
        raise StateError(f"{node}.{field}: upstream value has the wrong type: {e}") from None


def _instance(cls: type[TaskDef], values: dict[str, Any]) -> TaskDef:
    # Values were checked when split or connected; skip __init__'s re-validation.
    obj = object.__new__(cls)
    state = obj.__dict__
    state.update(values)
    state["_splitter"] = None
    state["_combiner"] = ()
    return obj


def _join(
    node: Node, upstream: Mapping[str, NodeOutput]
) -> Iterable[tuple[tuple[int, ...], tuple[str, ...], dict[str, dict[str, Any]], list[str], bool]]:
    """Rows of the inherited state: natural join of the upstream outputs on shared axes.

    Upstream nodes sharing an axis are aligned on it; independent axes give
    their outer product, in the order of ``node.inherited`` (slowest first).
    """
    inherited = node.inherited
    Row = tuple[dict[int, tuple[int, str]], dict[str, Any], list[str], bool]
    rows: list[Row] = [({}, {}, [], True)]
    assigned: set[int] = set()
    for uname in node.upstream:
        out = upstream[uname]
        positions = [inherited.index(ax) for ax in out.axes]
        shared = [k for k, p in enumerate(positions) if p in assigned]
        by_key: dict[tuple[int, ...], list[Element]] = {}
        for elem in out.items:
            by_key.setdefault(tuple(elem.index[k] for k in shared), []).append(elem)
        new_rows: list[Row] = []
        for row, items, sums, ok in rows:
            key = tuple(row[positions[k]][0] for k in shared)
            for elem in by_key.get(key, ()):
                new_row = dict(row)
                for k, p in enumerate(positions):
                    new_row[p] = (elem.index[k], elem.labels[k])
                new_items = dict(items)
                new_items[uname] = elem.outputs
                new_rows.append(
                    (
                        new_row,
                        new_items,
                        [*sums, *elem.jobs],
                        ok and elem.ok and elem.outputs is not None,
                    )
                )
        rows = new_rows
        assigned.update(positions)
    for row, items, sums, ok in rows:
        index = tuple(row[p][0] for p in range(len(inherited)))
        labels = tuple(row[p][1] for p in range(len(inherited)) if row[p][1])
        yield index, labels, items, sums, ok


def _own_product(
    node: Node, values: Mapping[str, Any]
) -> Iterable[tuple[tuple[int, ...], list[tuple[Any, ...]]]]:
    """Each combination of the node's own axes: (indices, per-axis element tuples)."""
    per_axis: list[list[tuple[Any, ...]]] = []
    for ax in node.own:
        seqs = []
        for f in ax.fields:
            seq = values[f]
            if not isinstance(seq, (list, tuple)) and not hasattr(seq, "__len__"):
                raise StateError(
                    f"{node.name}.{f}: split values must be a list, got {type(seq).__name__}"
                )
            seqs.append(list(seq))
        lengths = {f: len(s) for f, s in zip(ax.fields, seqs)}
        if len(set(lengths.values())) > 1:
            raise StateError(
                f"{node.name}: scalar splitter {ax.fields!r} needs equal lengths, got "
                + ", ".join(f"{f}={n}" for f, n in lengths.items())
            )
        per_axis.append(list(zip(*seqs)) if seqs else [])
    if not per_axis:
        yield (), []
        return
    ranges = [range(len(p)) for p in per_axis]
    for combo in itertools.product(*ranges):
        yield combo, [per_axis[i][c] for i, c in enumerate(combo)]


def _topological(nodes: dict[str, Node]) -> dict[str, Node]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise GraphError(f"cycle in the workflow graph: {cycle}")
        state[name] = 1
        for up in nodes[name].upstream:
            if up not in nodes:
                raise GraphError(f"{name}: upstream node {up!r} does not exist")
            visit(up, [*path, name])
        state[name] = 2
        order.append(name)

    for name in nodes:
        visit(name, [])
    return {n: nodes[n] for n in order}


def node_state(name: str, defn: TaskDef, existing: Mapping[str, Any]) -> Node:
    """Work out a node's state (axes, combine) from its definition and upstream nodes.

    Raises at construction for bad splitters and combiners, unequal scalar
    lengths, missing inputs, and combines that make no sense.
    """
    values = defn.input_values()
    upstream = tuple(dict.fromkeys(v.node for v in values.values() if is_lazy(v)))
    inherited: list[Axis] = []
    for u in upstream:
        for ax in existing[u].out_axes:
            if ax not in inherited:
                inherited.append(ax)
    own: list[Axis] = []
    zipped: list[tuple[str, Axis]] = []
    if defn._splitter is not None:
        for fields in parse_splitter(defn._splitter, name):
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
    split_fields = {f for ax in own for f in ax.fields} | {f for f, _ in zipped}
    for field, value in values.items():
        if value is MISSING and field not in split_fields and defn._inputs[field].mandatory:
            check_complete(defn, name)
    for ax in own:
        lengths = {f: len(values[f]) for f in ax.fields if not is_lazy(values[f])}
        if len(ax.fields) > 1 and len(set(lengths.values())) > 1:
            raise StateError(
                f"{name}: scalar splitter {ax.fields!r} needs equal lengths, got "
                + ", ".join(f"{f}={n}" for f, n in lengths.items())
            )
    all_axes = [*inherited, *own]
    combined = resolve_combined(all_axes, defn._combiner, name, dict(zipped))
    for ax in all_axes:
        lost = [p for p in ax.parents if p in combined]
        if lost and ax not in combined:
            raise StateError(
                f"{name}: cannot combine {lost[0].name} while keeping {ax.name}, "
                f"which is split inside each element of {lost[0].name}"
            )
    return Node(
        name=name,
        definition=defn,
        upstream=upstream,
        inherited=tuple(inherited),
        own=tuple(own),
        combined=combined,
        zipped=tuple(zipped),
    )


def _check_inherited_first(
    name: str, ref: str, own: list[Axis], existing: Mapping[str, Any], inherited: list[Axis]
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
    existing: Mapping[str, Any],
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


def compile(
    defn: TaskDef,
    cache_root: str | os.PathLike[str] | None = None,
    readonly_caches: Sequence[str | os.PathLike[str]] = (),
    *,
    environment: Any = None,
    inline: bool = True,
) -> Graph:
    """Compile a definition into a :class:`Graph`.

    A workflow without state at top level becomes the graph of its nodes
    (with ``inline=False``, a graph of one workflow node, so that the whole
    workflow's result is cached too); anything else (a task, a split task, a
    split workflow) becomes a graph of one node. ``environment`` is where
    shell jobs run (see :mod:`plait.environments`).
    """
    from .cache import default_cache_root

    root = Path(cache_root) if cache_root is not None else default_cache_root()
    name = type(defn).__name__
    unsplit_workflow = (
        isinstance(defn, WorkflowDef) and defn._splitter is None and not defn._combiner
    )
    if unsplit_workflow and inline:
        check_complete(defn, name)
        construction = defn.construct()  # type: ignore[attr-defined]
        nodes = list(construction.nodes.values())
        return Graph(name, nodes, construction.outputs, root, readonly_caches, defn, environment)
    node = node_state(name, defn, {})
    outputs = {f: _lazy(name, f) for f in defn._outputs}
    return Graph(name, [node], outputs, root, readonly_caches, defn, environment)


def _lazy(node: str, field: str) -> Any:
    from .fields import LazyOut

    return LazyOut(node=node, field=field)
