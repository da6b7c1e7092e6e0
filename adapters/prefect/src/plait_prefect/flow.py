"""``to_flow``: a plait workflow as a deployable Prefect flow.

Assign the flow to a module-level variable named like the flow (or pass
``variable=``), and Prefect can deploy it, serve it and load it back from its
entrypoint::

    # userflows.py
    from plait_prefect import to_flow
    from mytasks import Powers

    powers = to_flow(Powers, name="powers", cache_root="/shared/cache")  # parameters: ps: list[int]

    if __name__ == "__main__":
        powers.serve(name="nightly", cron="0 3 * * *")

From a definition *class*, the flow's parameters are the workflow's inputs
(types and defaults; Prefect builds their JSON schema and validates calls);
from a definition *instance*, the flow has no parameters. Each flow run
compiles the workflow and drives it with a :class:`~plait_prefect.PrefectWorker`
inside the run: every job that is not in plait's cache becomes one task run of
that flow run, on the flow's task runner. The flow returns the workflow's
outputs as a dict, or raises :class:`plait.JobFailedError` naming the failed
jobs (the flow run is Failed, and Prefect's flow-run ``retries`` apply: a retry
serves the finished jobs from plait's cache and runs only the others).
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

import plait
from plait.definition import TaskDef
from plait.errors import JobFailedError, failure_report
from plait.fields import MISSING

from .tasks import check_node_names, check_node_options
from .worker import PrefectWorker, default_task_runner

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.task_runners import TaskRunner

__all__ = ["to_flow"]

#: Prefect flow options plait sets itself
_OWN_FLOW_OPTIONS = {
    "fn": "to_flow builds the flow function from the workflow",
    "task_runner": "pass task_runner= to to_flow itself",
    "result_storage": "results live in plait's job cache, not in Prefect's result storage",
    "result_serializer": "results live in plait's job cache, not in Prefect's result storage",
}


@attrs.frozen
class _FlowSpec:
    """What a generated flow needs at run time: small and picklable (it travels with tasks)."""

    defn: Any  # a TaskDef subclass or instance
    cache_root: str | None
    readonly_caches: tuple[str, ...]
    environment: Any
    node_options: dict[str, dict[str, Any]]


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident and not ident[0].isdigit() else f"_{ident}"


def _signature(cls: type[TaskDef]) -> inspect.Signature:
    params = []
    for field in cls._inputs.values():
        params.append(
            inspect.Parameter(
                field.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if field.default is MISSING else field.default,
                annotation=field.type,
            )
        )
    return inspect.Signature(params)


def _workflow_job(defn: TaskDef, graph: plait.Graph, spec: _FlowSpec) -> plait.Job | None:
    """The job of the whole workflow (an unsplit workflow), whose cache entry a Submitter reads."""
    top = plait.compile(
        defn, graph.cache_root, spec.readonly_caches, environment=spec.environment, inline=False
    )
    node = next(iter(top.nodes.values()))
    if node.kind != "workflow" or node.is_split:
        return None
    jobs = top.static_jobs(node.name)
    return jobs[0] if jobs else None


def run_workflow_in_flow(spec: _FlowSpec, params: Mapping[str, Any]) -> Any:
    """The body of a ``to_flow`` flow run: drive the workflow, one task run per job."""
    defn = spec.defn(**params) if isinstance(spec.defn, type) else spec.defn
    graph = plait.compile(
        defn,
        cache_root=spec.cache_root,
        readonly_caches=spec.readonly_caches,
        environment=spec.environment,
        inline=True,
    )
    if isinstance(spec.defn, type):
        check_node_names(spec.node_options, list(graph.nodes), f"to_flow({graph.name})")
    worker = PrefectWorker(node_options=spec.node_options)
    with worker:
        worker.start(graph)
        outcome = plait.Driver(worker, progress=worker.report).run(graph)
    if outcome.errored:
        # raised, not returned as a Failed state, so that Prefect's flow-run retries apply
        raise JobFailedError(failure_report(outcome.errors, outcome.skipped))
    job = _workflow_job(defn, graph, spec)
    if job is not None:
        outcome.as_job_result(job)
    return outcome.outputs


def to_flow(
    defn: TaskDef | type[TaskDef],
    *,
    name: str | None = None,
    cache_root: str | os.PathLike[str] | None = None,
    readonly_caches: Sequence[str | os.PathLike[str]] = (),
    environment: Any = None,
    task_runner: TaskRunner[Any] | None = None,
    node_options: Mapping[str, Mapping[str, Any]] | None = None,
    variable: str | None = None,
    **flow_kwargs: Any,
) -> Flow[..., Any]:
    """A Prefect flow that runs ``defn``: every plait job one task run of the flow run.

    ``defn``: a definition class (the flow's parameters are its inputs) or
    instance (no parameters). ``name``: the flow's name (default: the
    definition's). ``task_runner``: the flow's task runner (default: a bounded
    ``ThreadPoolTaskRunner``). ``node_options``: per-node Prefect task options,
    as for :class:`~plait_prefect.PrefectWorker`. ``variable``: the name of the
    module-level variable the flow is assigned to (default: ``name`` made an
    identifier), which makes the flow deployable. Other keyword arguments go to
    ``prefect.Flow`` (``retries``, ``retry_delay_seconds``, ``timeout_seconds``,
    ``log_prints``, hooks, ``flow_run_name``, ``description``, ``version``);
    ``persist_result`` is always False.
    """
    from prefect import Flow

    is_class = isinstance(defn, type)
    if not (issubclass(defn, TaskDef) if isinstance(defn, type) else isinstance(defn, TaskDef)):
        raise TypeError(f"to_flow needs a plait definition class or instance, got {defn!r}")
    for key, why in _OWN_FLOW_OPTIONS.items():
        if key in flow_kwargs:
            raise ValueError(f"to_flow: {key!r} cannot be set ({why})")
    if flow_kwargs.pop("persist_result", False):
        raise ValueError(
            "to_flow: persist_result=True is not allowed (results live in plait's job cache)"
        )
    options = check_node_options(node_options)
    cls: type[TaskDef] = defn if isinstance(defn, type) else type(defn)
    flow_name = name or cls.__name__
    if not is_class and options:
        graph = plait.compile(defn, cache_root, readonly_caches, environment=environment)  # type: ignore[arg-type]
        check_node_names(options, list(graph.nodes), f"to_flow({flow_name})")
    spec = _FlowSpec(
        defn=defn,
        cache_root=None if cache_root is None else os.fspath(cache_root),
        readonly_caches=tuple(os.fspath(p) for p in readonly_caches),
        environment=environment,
        node_options=options,
    )

    def run_plait(**params: Any) -> Any:
        return run_workflow_in_flow(spec, params)

    ident = variable or _identifier(flow_name)
    caller = sys._getframe(1).f_globals.get("__name__", __name__)
    run_plait.__module__ = caller
    run_plait.__name__ = run_plait.__qualname__ = ident
    run_plait.__doc__ = cls.__doc__
    run_plait.__signature__ = _signature(cls) if is_class else inspect.Signature([])  # type: ignore[attr-defined]
    flow_kwargs.setdefault("description", inspect.cleandoc(cls.__doc__ or "") or None)
    return Flow(
        run_plait,
        name=flow_name,
        task_runner=task_runner or default_task_runner(),
        persist_result=False,
        **flow_kwargs,
    )
