"""``to_dask``: a plait workflow as a Dask collection you compute yourself.

Example::

    import dask
    from plait_dask import to_dask

    powers = to_dask(Powers(ps=[1, 2, 3]), cache_root="/tmp/cache")
    (outputs,) = dask.compute(powers)            # any scheduler, or a distributed Client
    outputs.total

The collection is a ``dask.delayed`` object over a plain task graph with one
task per job (keyed after its node and state, ``TenToThePower-<token>[p=3]``), one
task per node that expands the node's jobs from its upstream nodes' outputs
(their checksums depend on those values), and one that collects each node's
results (its combine). Each job task calls :func:`plait.run_job`, so the
cache is shared with every other worker: recomputing is free.

The number of jobs of every node must be known before anything runs: a node
that splits over an output of another node (its state depends on run-time
values) cannot be expressed, and ``to_dask`` says so; run such workflows with
``worker="dask"``, whose driver expands them as their inputs arrive.
"""

from __future__ import annotations

import itertools
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
from plait.errors import StateError
from plait.fields import is_lazy
from plait.labels import render_value as short_repr
from plait.result import ErrorInfo, Result
from plait.state import Axis

from .keys import dask_key

__all__ = ["RuntimeStateError", "to_dask"]


class RuntimeStateError(StateError):
    """The workflow's state depends on run-time values, so it has no static Dask graph."""


@attrs.frozen
class _Expanded:
    """A node's jobs by state index, and the elements skipped because an input failed."""

    jobs: dict[tuple[int, ...], Job]
    skipped: tuple[SkippedJob, ...] = ()


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
    token = tokenize(hash_object(defn), graph.cache_root, graph.readonly_caches)[:8]
    graph_key = f"plait-graph-{graph.name}-{token}"
    dsk: dict[str, Any] = {graph_key: graph}
    labels: dict[Axis, list[str]] = {}
    collect_keys: dict[str, str] = {}
    for name, node in graph.nodes.items():
        _own_labels(graph, name, labels)
        expand_key = f"{name}-expand-{token}"
        if not node.upstream:
            jobs = graph.static_jobs(name) or []
            dsk[expand_key] = _Expanded({job.index: job for job in jobs})
            job_keys = {job.index: dask_key(job) for job in jobs}
            for job in jobs:
                dsk[job_keys[job.index]] = (_run_static, job)
        else:
            dsk[expand_key] = (
                _expand,
                graph_key,
                name,
                *(collect_keys[u] for u in node.upstream),
            )
            job_keys = {}
            for index, label in _static_states(graph, name, labels):
                key = f"{name}-{token}[{label}]" if label else f"{name}-{token}"
                if key in dsk:  # equal values in a split give equal labels
                    key = f"{key}-{len(job_keys)}"
                job_keys[index] = key
                dsk[key] = (_run_indexed, expand_key, index)
        indices = list(job_keys)
        collect_key = f"{name}-collect-{token}"
        dsk[collect_key] = (_collect, graph_key, name, indices, expand_key, *job_keys.values())
        collect_keys[name] = collect_key
    names = list(collect_keys)
    final = f"{graph.name}-outputs-{token}"
    dsk[final] = (
        _outputs,
        graph_key,
        "\x00".join(names),
        raise_errors,
        *collect_keys.values(),
    )
    return Delayed(final, dsk)


# -- static state -------------------------------------------------------------
def _own_labels(graph: Graph, name: str, labels: dict[Axis, list[str]]) -> None:
    """Record the label of each element of ``name``'s own axes; fail for run-time state."""
    node = graph.nodes[name]
    values = node.definition.input_values()
    for ax in node.own:
        lazy = [f for f in ax.fields if is_lazy(values[f])]
        if lazy:
            src = values[lazy[0]]
            raise RuntimeStateError(
                f"{name}: splits {lazy[0]!r} over the output {src.node}.{src.field}, so its "
                "number of jobs is only known at run time and it has no static Dask graph; "
                'run it with worker="dask" instead of to_dask'
            )
        columns = [list(values[f]) for f in ax.fields]
        labels[ax] = [
            ",".join(f"{f}={short_repr(v)}" for f, v in zip(ax.fields, elems))
            for elems in zip(*columns)
        ]
    for field, _ax in node.zipped:
        if is_lazy(values[field]):
            raise RuntimeStateError(
                f"{name}: zips {field!r}, an output of another node, with an inherited state; "
                'it has no static Dask graph: run it with worker="dask" instead of to_dask'
            )


def _static_states(
    graph: Graph, name: str, labels: dict[Axis, list[str]]
) -> list[tuple[tuple[int, ...], str]]:
    """Every state index of ``name`` with its label, in the order ``expand`` produces."""
    node = graph.nodes[name]
    values = node.definition.input_values()
    ranges = [range(len(labels[ax])) for ax in node.axes]
    out = []
    for index in itertools.product(*ranges):
        pieces = [labels[ax][i] for ax, i in zip(node.axes, index) if labels[ax][i]]
        for field, ax in node.zipped:
            pos = node.inherited.index(ax)
            pieces.append(f"{field}={short_repr(values[field][index[pos]])}")
        out.append((tuple(index), ",".join(pieces)))
    return out


# -- tasks --------------------------------------------------------------------
def _run_static(job: Job) -> Result:
    # a split workflow's elements stay workflow jobs: driven in this Dask task
    return run_workflow_job(job) if job.kind == "workflow" else run_job(job)


def _expand(graph: Graph, name: str, *upstream: _Collected) -> _Expanded:
    node = graph.nodes[name]
    outputs = {u: c.output for u, c in zip(node.upstream, upstream)}
    jobs, skipped = graph.expand(name, outputs)
    return _Expanded({job.index: job for job in jobs}, tuple(skipped))


def _run_indexed(expanded: _Expanded, index: tuple[int, ...]) -> Result | None:
    job = expanded.jobs.get(tuple(index))
    return None if job is None else _run_static(job)


def _collect(
    graph: Graph,
    name: str,
    indices: list[tuple[int, ...]],
    expanded: _Expanded,
    *results: Result | None,
) -> _Collected:
    by_index = {tuple(i): r for i, r in zip(indices, results)}
    jobs = list(expanded.jobs.values())
    ordered: list[Result] = []
    for job in jobs:
        result = by_index.get(job.index)
        ordered.append(result if result is not None else _run_static(job))
    out = graph.collect(name, jobs, ordered, expanded.skipped)
    errors = tuple(
        attrs.evolve(e, job=e.job or job.label)
        for job, r in zip(jobs, ordered)
        if r.errored
        for e in r.errors
    )
    return _Collected(out, errors, tuple(s.label for s in expanded.skipped))


def _outputs(graph: Graph, names: str, raise_errors: bool, *collected: _Collected) -> Any:
    by_name = dict(zip(names.split("\x00"), collected))
    outputs = graph.outputs({n: c.output for n, c in by_name.items()})
    errors = [e for c in collected for e in c.errors]
    skipped = [s for c in collected for s in c.skipped]
    if errors and raise_errors:
        Result(
            outputs=None, errored=True, errors=tuple(errors), skipped=tuple(skipped)
        ).raise_for_errors()
    definition = graph.definition
    if definition is None:
        return outputs
    return type(definition)._outputs_class(**outputs)
