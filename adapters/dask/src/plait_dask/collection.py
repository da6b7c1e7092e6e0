"""``to_dask``: a plait workflow as a Dask collection you compute yourself.

Example::

    import dask
    from plait_dask import to_dask

    powers = to_dask(Powers(ps=[1, 2, 3]), cache_root="/tmp/cache")
    (outputs,) = dask.compute(powers)            # any scheduler, or a distributed Client
    outputs.total

The collection is a ``dask.delayed`` object over a plain task graph built
from the core's per-element API (:meth:`plait.Graph.static_indices`,
``upstream_key``, ``expand_row``, ``element``, ``out_key``), with no barrier
between nodes:

- one task per job, keyed after its node and state
  (``TenToThePower-1a2b3c4d[p=3]``), that calls :func:`plait.run_job`;
- per row of a downstream node (one element of its inherited state), one
  task that expands the row's jobs from the one upstream element each of
  them reads (their checksums depend on those values): ``B[x=1]`` waits for
  ``A[x=1]`` only, never for the rest of ``A``;
- per output element, one task that gathers its jobs (the combine), which
  downstream rows depend on; per node one task that collects its whole
  output, and one for the workflow's outputs.

Nested workflows are flattened by the core's compile, so their inner nodes
are tasks of the same graph. The cache is shared with every other worker:
recomputing is free.

The number of jobs of every node must be known before anything runs: a node
that splits over an output of another node (its state depends on run-time
values) cannot be expressed, and ``to_dask`` says so; run such workflows with
``worker="dask"``, whose driver expands them as their inputs arrive.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import attrs
from dask.base import tokenize
from dask.delayed import Delayed

from plait import (
    Graph,
    Job,
    NodeOutput,
    SkippedJob,
    TaskDef,
    compile,
    hash_object,
    run_job,
    run_workflow_job,
)
from plait.errors import JobFailedError, PlaitError, StateError, failure_report
from plait.fields import LazyOut, is_lazy
from plait.graph import Element
from plait.labels import render_state
from plait.result import ErrorInfo, Result

from .keys import dask_key

__all__ = ["RuntimeStateError", "to_dask"]

Member = tuple[Job | SkippedJob, Result | None]


class RuntimeStateError(StateError):
    """The workflow's state depends on run-time values, so it has no static Dask graph."""


@attrs.frozen
class _Collected:
    """A node's output and the failures behind it."""

    output: NodeOutput
    errors: tuple[ErrorInfo, ...]
    skipped: tuple[str, ...]


def to_dask(
    defn: TaskDef,
    cache_root: str | os.PathLike[str] | None = None,
    readonly_caches: Sequence[str | os.PathLike[str]] = (),
    *,
    environment: Any = None,
    raise_errors: bool = True,
) -> Delayed:
    """A ``dask.delayed`` object that computes ``defn``'s outputs.

    Computing it gives the definition's outputs object (``outputs.total``).
    With ``raise_errors`` (the default), a failed job raises
    :class:`plait.errors.JobFailedError` listing failed and skipped jobs;
    otherwise failed elements are None in the outputs. Raises
    :class:`RuntimeStateError` when a node's state depends on run-time values.
    """
    graph = compile(
        defn, cache_root=cache_root, readonly_caches=readonly_caches, environment=environment
    )
    return _Builder(graph, tokenize(hash_object(defn), graph.cache_root)[:8]).build(raise_errors)


class _Builder:
    """Writes the task graph of one compiled plait graph (see the module docstring)."""

    def __init__(self, graph: Graph, token: str) -> None:
        self.graph = graph
        self.token = token
        self.graph_key = f"plait-graph-{graph.name}-{token}"
        self.dsk: dict[str, Any] = {self.graph_key: graph}
        self.elements: dict[str, dict[tuple[int, ...], str]] = {}  # node -> out key -> task
        self.collected: dict[str, str] = {}  # node -> its collect task

    def build(self, raise_errors: bool) -> Delayed:
        for name in self.graph.nodes:
            self._node(name)
        final = f"{self.graph.name}-outputs-{self.token}"
        names = list(self.collected)
        self.dsk[final] = (
            _outputs,
            self.graph_key,
            names,
            raise_errors,
            *self.collected.values(),
        )
        return Delayed(final, self.dsk)

    def _node(self, name: str) -> None:
        graph, node = self.graph, self.graph.nodes[name]
        indices = graph.static_indices(name)
        if indices is None or any(is_lazy(getattr(node.definition, f)) for f, _ in node.zipped):
            raise _runtime_state_error(graph, name)
        members: dict[tuple[int, ...], str] = {}  # job index -> task giving (job, result)
        if not node.upstream:
            for job in graph.static_jobs(name) or []:
                members[job.index] = self._unique(dask_key(job))
                self.dsk[members[job.index]] = (_run_job, job)
        else:
            rows: dict[tuple[int, ...], str] = {}
            width = len(node.inherited)
            for index in indices:
                row = index[:width]
                if row not in rows:
                    rows[row] = self._unique(f"{name}-row-{self.token}{self._state(name, row)}")
                    self.dsk[rows[row]] = (
                        _expand_row,
                        self.graph_key,
                        name,
                        row,
                        node.upstream,
                        *(
                            self.elements[u][graph.upstream_key(name, u, row)]
                            for u in node.upstream
                        ),
                    )
                members[index] = self._unique(f"{name}-{self.token}{self._state(name, index)}")
                self.dsk[members[index]] = (_run_in_row, rows[row], name, index)
        by_key: dict[tuple[int, ...], list[str]] = {}
        for index, task in members.items():
            by_key.setdefault(graph.out_key(name, index), []).append(task)
        if not by_key and not node.out_axes:  # a combine over an empty split: one element
            by_key[()] = []
        self.elements[name] = {}
        for key, tasks in by_key.items():
            element = self._unique(f"{name}-element-{self.token}-{'-'.join(map(str, key))}")
            self.dsk[element] = (_element, self.graph_key, name, key, *tasks)
            self.elements[name][key] = element
        self.collected[name] = f"{name}-collect-{self.token}"
        self.dsk[self.collected[name]] = (_collect, self.graph_key, name, *members.values())

    def _state(self, name: str, index: tuple[int, ...]) -> str:
        state = self.graph.static_state(name, index)
        return f"[{render_state(state)}]" if state else ""

    def _unique(self, key: str) -> str:
        """``key``, or ``key-N`` if taken (equal values in a split give equal states)."""
        if key not in self.dsk:
            return key
        n = 2
        while f"{key}-{n}" in self.dsk:
            n += 1
        return f"{key}-{n}"


def _runtime_state_error(graph: Graph, name: str) -> RuntimeStateError:
    node = graph.nodes[name]
    for axis in node.axes:
        owner = graph.nodes.get(axis.node)
        value = None if owner is None else getattr(owner.definition, axis.fields[0])
        if isinstance(value, LazyOut):
            return RuntimeStateError(
                f"{axis.node}: splits {axis.fields[0]!r} over the output {value.node}."
                f"{value.field}, so its number of jobs is only known at run time and it has "
                'no static Dask graph; run it with worker="dask" instead of to_dask'
            )
    return RuntimeStateError(
        f"{name}: its number of jobs depends on run-time values (a split over an upstream "
        'output), so it has no static Dask graph; run it with worker="dask" instead of to_dask'
    )


# -- tasks --------------------------------------------------------------------
def _run(job: Job) -> Result:
    return run_workflow_job(job) if job.kind == "workflow" else run_job(job)


def _run_job(job: Job) -> Member:
    return job, _run(job)


def _expand_row(
    graph: Graph, name: str, row: tuple[int, ...], upstream: Sequence[str], *elements: Element
) -> tuple[dict[tuple[int, ...], Job], tuple[SkippedJob, ...]]:
    jobs, skipped = graph.expand_row(name, tuple(row), dict(zip(upstream, elements)))
    return {job.index: job for job in jobs}, tuple(skipped)


def _run_in_row(
    expanded: tuple[dict[tuple[int, ...], Job], tuple[SkippedJob, ...]],
    name: str,
    index: tuple[int, ...],
) -> Member:
    jobs, skipped = expanded
    job = jobs.get(tuple(index))
    if job is not None:
        return job, _run(job)
    if skipped:  # an input of the row failed: none of its jobs runs
        return skipped[0], None
    raise PlaitError(
        f"to_dask: {name} has no job at index {tuple(index)} (it expanded to "
        f"{sorted(jobs)}); the static graph and the expanded jobs disagree, which is a bug "
        "in plait: please report it"
    )


def _distinct(members: Sequence[Member]) -> list[Member]:
    """Members with a skipped row counted once (each of its job tasks returns it)."""
    seen: list[SkippedJob] = []
    out: list[Member] = []
    for member, result in members:
        if isinstance(member, SkippedJob):
            if member in seen:
                continue
            seen.append(member)
        out.append((member, result))
    return out


def _element(graph: Graph, name: str, key: tuple[int, ...], *members: Member) -> Element:
    return graph.element(name, tuple(key), _distinct(members))


def _collect(graph: Graph, name: str, *members: Member) -> _Collected:
    distinct = _distinct(members)
    jobs = [m for m, _ in distinct if isinstance(m, Job)]
    results = [r for m, r in distinct if isinstance(m, Job)]
    skipped = [m for m, _ in distinct if isinstance(m, SkippedJob)]
    out = graph.collect(name, jobs, results, skipped)
    errors = tuple(
        attrs.evolve(e, job=e.job or job.label)
        for job, r in zip(jobs, results)
        if r is not None and r.errored
        for e in r.errors
    )
    return _Collected(out, errors, tuple(s.label for s in skipped))


def _outputs(graph: Graph, names: list[str], raise_errors: bool, *collected: _Collected) -> Any:
    by_name = dict(zip(names, collected))
    outputs = graph.outputs({n: c.output for n, c in by_name.items()})
    errors = [e for c in collected for e in c.errors]
    skipped = [s for c in collected for s in c.skipped]
    if errors and raise_errors:
        raise JobFailedError(failure_report(errors, skipped))
    definition = graph.definition
    if definition is None:
        return outputs
    return type(definition).outputs_from(outputs)
