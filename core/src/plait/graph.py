"""The compiled graph: the contract between the core and every host (docs/adapters.md).

``compile(defn)`` turns a definition into a :class:`Graph` of nodes in
topological order; nested workflows whose constructor only wires nodes are
flattened into it (their nodes are named ``Nested.Inner``; ``graph.groups``
lists them). A host expands nodes into :class:`Job` s and gathers results
either per node — :meth:`Graph.expand` / :meth:`Graph.collect` — or per
element, so a downstream job starts as soon as the upstream elements it reads
exist — :meth:`Graph.expand_row` / :meth:`Graph.element`, with
:meth:`Graph.upstream_key` and :meth:`Graph.out_key` telling which element
reads or gathers which, and :meth:`Graph.static_indices` the jobs known before
anything runs. State logic itself lives in :mod:`plait.state`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .cache import default_cache_root, job_dir_name
from .definition import TaskDef
from .errors import GraphError, StateError
from .fields import LazyOut, is_lazy
from .identity import definition_identity, job_checksum
from .labels import State, render_label, render_state, render_value
from .node import Node, check_complete, make_node
from .resources import Resources
from .state import UNKNOWN, Axis, join_rows, own_product
from .typecheck import check_value
from .workflow import WorkflowDef

__all__ = ["Element", "Graph", "Job", "Node", "NodeOutput", "SkippedJob", "compile"]


@attrs.frozen(slots=True, weakref_slot=False)
class Element:
    """One element of a node's output state.

    ``index`` over the node's remaining axes; ``outputs`` by field (lists for
    a combining node; None if unavailable); ``state``, the (field, value)
    pairs of each remaining axis; ``ok``, whether every job behind it
    succeeded; ``jobs``, the checksums of those jobs.
    """

    index: tuple[int, ...]
    outputs: dict[str, Any] | None
    state: tuple[State, ...]
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


class _Labelled:
    """``label`` and ``state_label`` of something with a ``node`` and a ``state``."""

    __slots__ = ()
    node: str
    state: State

    @property
    def label(self) -> str:
        """``Node[p=3]``, or ``Node`` without state: used as the host-native name."""
        return render_label(self.node, self.state)

    @property
    def state_label(self) -> str:
        """``p=3``: the state part of the label (empty without state)."""
        return render_state(self.state)


@attrs.frozen(slots=True, weakref_slot=False)
class Job(_Labelled):
    """One job: a node at one state index, inputs resolved, checksum and cache dir known.

    Small and picklable (its definition class pickles by reference). ``state``
    holds the (field, value) pairs of its axes; :attr:`label` renders them.
    """

    node: str
    index: tuple[int, ...]
    state: State
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
    def path(self) -> Path:
        """The job's cache directory as a Path."""
        return Path(self.cache_dir)

    def __repr__(self) -> str:
        return f"<Job {self.label} {self.kind}-{self.checksum[:12]}>"


@attrs.frozen
class SkippedJob(_Labelled):
    """An element that was not run because an input it needs failed.

    ``state`` holds the pairs of its inherited axes (its own split, if any,
    was never expanded); ``index`` its inherited index.
    """

    node: str
    state: State
    reason: str
    index: tuple[int, ...] = ()


Member = tuple[Job | SkippedJob, Any]
"""A job (or skipped element) of a node with its Result (None when skipped)."""


class Graph:
    """A picklable DAG of nodes in topological order, and the workflow's outputs.

    ``cache_root`` and ``readonly_caches`` decide where jobs are cached;
    ``groups`` maps each flattened nested workflow (``Nested``, ``Outer.Inner``)
    to the names of the nodes inside it.
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
        self.groups = _groups(self.nodes)
        self.downstream: dict[str, list[str]] = {n: [] for n in self.nodes}
        for n, node in self.nodes.items():
            for up in node.upstream:
                self.downstream[up].append(n)
        self._plans: dict[str, _RowPlan] = {}
        self._positions: dict[str, list[tuple[str, tuple[int, ...]]]] = {}

    def __repr__(self) -> str:
        return f"<Graph {self.name}: {', '.join(self.nodes)}>"

    # -- whole nodes --------------------------------------------------------
    def static_jobs(self, name: str) -> list[Job] | None:
        """The node's jobs if they are known now (no upstream nodes), else None."""
        if self.nodes[name].upstream:
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
        parts = [(u, p, upstream[u].items) for u, p in self.upstream_positions(name)]
        jobs: list[Job] = []
        skipped: list[SkippedJob] = []
        for index, elements in join_rows(parts):
            row_jobs, row_skipped = self.expand_row(name, index, elements)
            jobs.extend(row_jobs)
            skipped.extend(row_skipped)
        return jobs, skipped

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
        members: list[tuple[tuple[int, ...], Member]] = [
            (job.index, (job, result)) for job, result in zip(jobs, results)
        ]
        members += [(self.member_index(name, s), (s, None)) for s in skipped]
        members.sort(key=lambda m: m[0])
        groups: dict[tuple[int, ...], list[Member]] = {}
        for index, member in members:
            groups.setdefault(node.state.out_key(index), []).append(member)
        items = [self.element(name, key, group) for key, group in groups.items()]
        if not groups and node.combined and not node.state.kept:
            items.append(self.element(name, (), []))
        return NodeOutput(node=name, axes=node.out_axes, items=tuple(items))

    def failed_output(self, name: str) -> NodeOutput:
        """The output of a node that could not be expanded at all: one failed element."""
        node = self.nodes[name]
        unknown = tuple(tuple((f, "?") for f in ax.fields) for ax in node.out_axes)
        element = Element((UNKNOWN,) * len(node.out_axes), None, unknown, False, ())
        return NodeOutput(node=name, axes=node.out_axes, items=(element,))

    def outputs(self, node_outputs: Mapping[str, NodeOutput]) -> dict[str, Any]:
        """The workflow's outputs from its nodes' outputs, shaped as docs/design.md §3 says."""
        out: dict[str, Any] = {}
        for name, ref in self.outputs_spec.items():
            out[name] = node_outputs[ref.node].values(ref.field) if is_lazy(ref) else ref
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

    # -- elements -----------------------------------------------------------
    def upstream_positions(self, name: str) -> list[tuple[str, tuple[int, ...]]]:
        """Per upstream node, the positions of its output axes among ``name``'s inherited axes."""
        found = self._positions.get(name)
        if found is None:
            node = self.nodes[name]
            found = [(u, node.state.positions(self.nodes[u].out_axes)) for u in node.upstream]
            self._positions[name] = found
        return found

    def upstream_key(self, name: str, upstream: str, index: Sequence[int]) -> tuple[int, ...]:
        """The key of the ``upstream`` output element that the job or row at ``index`` reads."""
        positions = self.nodes[name].state.positions(self.nodes[upstream].out_axes)
        return tuple(index[p] for p in positions)

    def out_key(self, name: str, index: Sequence[int]) -> tuple[int, ...]:
        """The output element of ``name`` that the job at ``index`` belongs to."""
        return self.nodes[name].state.out_key(index)

    def member_index(self, name: str, member: Job | SkippedJob) -> tuple[int, ...]:
        """A job's index; a skipped element's inherited index padded with UNKNOWN own indices."""
        if isinstance(member, Job):
            return member.index
        return member.index + (UNKNOWN,) * len(self.nodes[name].own)

    def static_indices(self, name: str) -> list[tuple[int, ...]] | None:
        """Every job index of the node if known before anything runs, else None.

        Known when each of its axes splits literal values of a node of this
        graph (not an upstream output known only at run time).
        """
        lengths = []
        for ax in self.nodes[name].axes:
            owner = self.nodes.get(ax.node)
            if owner is None or ax.parents:
                return None
            value = getattr(owner.definition, ax.fields[0])
            if is_lazy(value):
                return None
            lengths.append(len(value))
        return list(itertools.product(*(range(n) for n in lengths)))

    def static_state(self, name: str, index: Sequence[int]) -> State:
        """The (field, value) pairs of a job of a static node (see :meth:`static_indices`).

        ``index`` may also be a prefix (a row of the inherited state). The
        same pairs the job gets when it is expanded, known before anything
        runs: each axis takes its values from the literal split of the node
        that owns it; zipped fields follow.
        """
        node = self.nodes[name]
        pairs: list[tuple[str, str]] = []
        for axis, i in zip(node.axes, index):
            owner = self.nodes[axis.node].definition
            pairs += [(f, render_value(getattr(owner, f)[i])) for f in axis.fields]
        if len(index) == len(node.axes):
            for field, axis in node.zipped:
                i = index[node.inherited.index(axis)]
                pairs.append((field, render_value(getattr(node.definition, field)[i])))
        return tuple(pairs)

    def expand_row(
        self, name: str, index: tuple[int, ...], upstream: Mapping[str, Element]
    ) -> tuple[list[Job], list[SkippedJob]]:
        """The jobs of one element of the node's inherited state (``index``).

        ``upstream`` holds the one output element of each upstream node that
        this row reads. If one of them failed, the row is skipped.
        """
        plan = self._plan(name)
        axis_state: dict[int, State] = {}
        for u, positions in plan.positions:
            state_of = upstream[u].state
            for k, p in enumerate(positions):
                axis_state[p] = state_of[k]
        inherited: State = tuple(pair for p in range(plan.n_inherited) for pair in axis_state[p])
        elements = [upstream[u] for u in plan.upstream]
        if not all(e.ok and e.outputs is not None for e in elements):
            return [], [SkippedJob(name, inherited, "an input it needs failed", index)]
        defn = plan.definition
        values = dict(plan.values)
        for field, ref in plan.lazy.items():
            value = upstream[ref.node].outputs[ref.field]  # type: ignore[index]
            if field in plan.checked_now:
                value = _check_runtime(name, defn, field, value)
            values[field] = value
        for field, position in plan.zipped:
            values[field] = values[field][index[position]]
        sums = tuple(dict.fromkeys(s for e in elements for s in e.jobs))
        if not plan.own:  # one job per row: no own split to expand
            pairs = inherited + tuple((f, render_value(values[f])) for f, _ in plan.zipped)
            return [self._job(name, plan, index, pairs, values, sums)], []
        jobs = []
        for own_index, own_values in own_product(name, plan.own, values):
            job_values = dict(values)
            state = list(inherited)
            for ax, elems in zip(plan.own, own_values):
                for f, v in zip(ax.fields, elems):
                    if f in plan.lazy:
                        v = _check_runtime(name, defn, f, v)
                    job_values[f] = v
                    state.append((f, render_value(v)))
            state.extend((f, render_value(job_values[f])) for f, _ in plan.zipped)
            jobs.append(self._job(name, plan, index + own_index, tuple(state), job_values, sums))
        return jobs, []

    def _job(
        self,
        name: str,
        plan: _RowPlan,
        index: tuple[int, ...],
        state: State,
        values: dict[str, Any],
        sums: tuple[str, ...],
    ) -> Job:
        checksum = job_checksum(plan.identity, [values[f] for f in plan.fields])
        return Job(
            node=name,
            index=index,
            state=state,
            checksum=checksum,
            cache_dir=os.path.join(self.cache_root, job_dir_name(plan.kind, checksum)),
            definition=_instance(plan.cls, values),
            upstream=sums,
            readonly_caches=self.readonly_caches,
            resources=plan.resources,
            environment=self.environment,
        )

    def element(self, name: str, key: tuple[int, ...], members: Sequence[Member]) -> Element:
        """The output element ``key`` of ``name`` from its member jobs (in index order).

        A combining node gathers the members' outputs into lists; otherwise
        the element is its single member's outputs.
        """
        node = self.nodes[name]
        state = self._element_state(name, members[0][0]) if members else ()
        if node.combined:
            ok = all(isinstance(m, Job) and r is not None and not r.errored for m, r in members)
            lists = {
                f: [None if r is None or r.outputs is None else r.outputs[f] for _, r in members]
                for f in node.definition._outputs
            }
            sums = tuple(m.checksum for m, _ in members if isinstance(m, Job))
            return Element(key, lists, state, ok, sums)
        member, r = members[0]
        ok = r is not None and not r.errored and r.outputs is not None
        sums = (member.checksum,) if isinstance(member, Job) else ()
        # a failed workflow job keeps its partial outputs (its failed parts are None)
        return Element(key, r.outputs if r is not None else None, state, ok, sums)

    def _element_state(self, name: str, member: Job | SkippedJob) -> tuple[State, ...]:
        node = self.nodes[name]
        pairs = member.state
        if isinstance(member, SkippedJob):
            pairs += tuple((f, "?") for ax in node.own for f in ax.fields)
        return tuple(pairs[a:b] for a, b in node.state.kept_spans)

    def _plan(self, name: str) -> _RowPlan:
        plan = self._plans.get(name)
        if plan is None:
            plan = self._plans[name] = _RowPlan.of(self.nodes[name], self.upstream_positions(name))
        return plan


@attrs.frozen
class _RowPlan:
    """What expanding a row of one node needs, worked out once per node."""

    definition: TaskDef
    cls: type[TaskDef]
    kind: str
    identity: str
    fields: tuple[str, ...]
    values: dict[str, Any]  # literal inputs (and the lazy references, replaced per row)
    lazy: dict[str, LazyOut]
    checked_now: frozenset[str]  # connected fields checked as a whole (not split or zipped)
    own: tuple[Axis, ...]
    zipped: tuple[tuple[str, int], ...]  # zipped field, position of its inherited axis
    positions: list[tuple[str, tuple[int, ...]]]
    upstream: tuple[str, ...]
    n_inherited: int
    resources: Resources | None

    @classmethod
    def of(cls, node: Node, positions: list[tuple[str, tuple[int, ...]]]) -> _RowPlan:
        """The plan of ``node``."""
        defn = node.definition
        values = defn.input_values()
        lazy = {f: v for f, v in values.items() if is_lazy(v)}
        split = {f for ax in node.own for f in ax.fields} | {f for f, _ in node.zipped}
        return cls(
            definition=defn,
            cls=type(defn),
            kind=defn._kind,
            identity=definition_identity(type(defn)),
            fields=tuple(defn._inputs),
            values=values,
            lazy=lazy,
            checked_now=frozenset(f for f in lazy if f not in split),
            own=node.own,
            zipped=tuple((f, node.inherited.index(ax)) for f, ax in node.zipped),
            positions=positions,
            upstream=node.upstream,
            n_inherited=len(node.inherited),
            resources=node.resources,
        )


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


def _groups(nodes: Mapping[str, Node]) -> dict[str, list[str]]:
    """Each flattened nested workflow (a dotted name prefix) with the nodes inside it."""
    groups: dict[str, list[str]] = {}
    for name in nodes:
        parts = name.split(".")
        for depth in range(1, len(parts)):
            groups.setdefault(".".join(parts[:depth]), []).append(name)
    return groups


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
    root = Path(cache_root) if cache_root is not None else default_cache_root()
    name = type(defn).__name__
    unsplit_workflow = (
        isinstance(defn, WorkflowDef) and defn._splitter is None and not defn._combiner
    )
    if unsplit_workflow and inline:
        check_complete(defn, name)
        construction = defn.construct()
        nodes = list(construction.nodes.values())
        return Graph(name, nodes, construction.outputs, root, readonly_caches, defn, environment)
    node = make_node(name, defn, {})
    outputs = {f: LazyOut(node=name, field=f) for f in defn._outputs}
    return Graph(name, [node], outputs, root, readonly_caches, defn, environment)
