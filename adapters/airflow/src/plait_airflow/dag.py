"""``to_dag``: a plait workflow as an Airflow DAG whose tasks mirror its nodes.

Example — a DAG file in the dags folder::

    from plait import python, workflow
    from plait_airflow import to_dag

    @python.define
    def TenToThePower(p: int) -> int:
        return 10 ** p

    @python.define
    def Sum(xs: list[int]) -> int:
        return sum(xs)

    @workflow.define(outputs=["total"])
    def Powers(ps: list[int]) -> int:
        pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
        return workflow.add(Sum(xs=pw.out)).out

    dag = to_dag(Powers(ps=[1, 2, 3]), dag_id="powers", cache_root="/shared/plait-cache",
                 node_options={"TenToThePower": {"retries": 2, "pool": "cpu"}})

The DAG has, per node in topological order:

- a node without state: one task named after the node;
- a split node: a task group named after the node with a dynamically mapped
  ``run`` task (one task instance per job, its map index labelled with the
  state, e.g. ``p=3``) and a ``collect`` task that applies the combine; when
  the split depends on upstream outputs, an ``expand`` task first computes the
  jobs at run time;
- and finally an ``outputs`` task that pushes the workflow's outputs and fails
  the run if any job failed.

Every Airflow process that runs a task parses the DAG file, so ``to_dag``
compiles the workflow again there; ``plait.compile`` is deterministic, so all
processes see the same jobs (DAG files must be deterministic for Airflow
anyway: build the definition from constants, not from the clock).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import DAG, BaseOperator, TaskGroup

import plait
from plait import TaskDef

from ._tasks import (
    CollectOperator,
    CompiledWorkflow,
    ExpandOperator,
    NodeOperator,
    OutputsOperator,
    RunOperator,
    job_refs,
    register,
)

__all__ = ["to_dag"]

#: how a mapped task instance's label is rendered: the state of its job (``p=3``)
MAP_INDEX_TEMPLATE = "{{ task.job_ref['label'] }}"


def to_dag(
    defn: TaskDef,
    dag_id: str | None = None,
    *,
    cache_root: str | os.PathLike[str] | None = None,
    readonly_caches: Sequence[str | os.PathLike[str]] = (),
    environment: Any = None,
    node_options: Mapping[str, Mapping[str, Any]] | None = None,
    dag: DAG | None = None,
    outputs_task_id: str = "outputs",
    **dag_kwargs: Any,
) -> DAG:
    """Build an Airflow DAG whose tasks mirror the nodes of ``defn`` (a workflow or a task).

    ``cache_root`` must be a path every Airflow worker sees (a shared
    filesystem): jobs, their results and the node outputs live there; XCom
    carries only small references. ``node_options`` gives Airflow operator
    arguments per node (``retries``, ``retry_delay``, ``pool``, ``queue``,
    ``executor_config``, ...) for the tasks that run its jobs. Pass ``dag`` to
    add the tasks to an existing DAG instead (``dag_kwargs`` must then be
    empty); otherwise ``dag_kwargs`` go to :class:`airflow.sdk.DAG`.
    """
    if not isinstance(defn, TaskDef):
        raise TypeError(f"to_dag() needs a plait definition instance, got {defn!r}")
    if dag is not None and (dag_kwargs or dag_id is not None):
        raise ValueError("to_dag(): pass either dag= or dag_id=/DAG arguments, not both")
    graph = plait.compile(defn, cache_root, readonly_caches, environment=environment)
    options = dict(node_options or {})
    unknown = [name for name in options if name not in graph.nodes]
    if unknown:
        raise ValueError(
            f"to_dag({graph.name}): node_options for unknown node(s) {unknown}; "
            f"nodes: {', '.join(graph.nodes)}"
        )
    if outputs_task_id in graph.nodes:
        raise ValueError(
            f"to_dag({graph.name}): a node is named {outputs_task_id!r}; pass another "
            "outputs_task_id="
        )
    if dag is None:
        dag = DAG(dag_id=dag_id or graph.name, **dag_kwargs)
    wf = CompiledWorkflow(
        key=f"{dag.dag_id}/{graph.name}",
        graph=graph,
        output_tasks={},
        expand_tasks={},
        top_job=_workflow_job(defn, graph, readonly_caches, environment),
    )
    register(wf)
    with dag:
        out_tasks: dict[str, BaseOperator] = {}
        groups: dict[str, TaskGroup] = {}
        for name, node in graph.nodes.items():
            opts = dict(options.get(name, {}))
            ups = [out_tasks[u] for u in node.upstream]
            prefix, _, local = name.rpartition(".")
            with contextlib.ExitStack() as nested:
                if prefix:  # a node of a flattened nested workflow: inside its TaskGroup
                    nested.enter_context(_nested_group(groups, prefix))
                out_tasks[name] = _node_tasks(wf, name, local, node, ups, opts)
            wf.output_tasks[name] = out_tasks[name].task_id

        final = OutputsOperator(task_id=outputs_task_id, workflow=wf.key)
        for out_task in out_tasks.values():
            out_task >> final
    return dag


def _nested_group(groups: dict[str, TaskGroup], prefix: str) -> TaskGroup:
    """The TaskGroup of flattened nested workflow ``prefix`` (``Outer.Inner``), made once."""
    group = groups.get(prefix)
    if group is None:
        parent, _, local = prefix.rpartition(".")
        group = TaskGroup(
            group_id=local, parent_group=_nested_group(groups, parent) if parent else None
        )
        groups[prefix] = group
    return group


def _node_tasks(
    wf: CompiledWorkflow,
    name: str,
    local: str,
    node: Any,
    ups: list[BaseOperator],
    opts: dict[str, Any],
) -> BaseOperator:
    """The tasks of one node; returns the one downstream tasks read its output from."""
    if not node.is_split:
        task = NodeOperator(task_id=local, workflow=wf.key, node=name, **opts)
        for up in ups:
            up >> task
        return task
    with TaskGroup(group_id=local):
        mapped: Any
        expand = None
        if node.upstream:
            expand = ExpandOperator(task_id="expand", workflow=wf.key, node=name)
            for up in ups:
                up >> expand
            mapped = expand.output
            wf.expand_tasks[name] = expand.task_id
        else:
            mapped = job_refs(wf.static_jobs(name), None)
        opts.setdefault("map_index_template", MAP_INDEX_TEMPLATE)
        run = RunOperator.partial(task_id="run", workflow=wf.key, node=name, **opts).expand(
            job_ref=mapped
        )
        collect = CollectOperator(task_id="collect", workflow=wf.key, node=name)
        run >> collect
        if expand is not None:
            expand >> collect
    return collect


def _workflow_job(
    defn: TaskDef,
    graph: plait.Graph,
    readonly_caches: Sequence[str | os.PathLike[str]],
    environment: Any,
) -> plait.Job | None:
    """The job of the whole workflow, when ``defn`` is an unsplit workflow (else None).

    ``Submitter`` caches such a workflow's result in its own job directory as
    well; the outputs task stores it there too, so both share the cache.
    """
    top = plait.compile(
        defn, graph.cache_root, readonly_caches, environment=environment, inline=False
    )
    node = next(iter(top.nodes.values()))
    if node.kind != "workflow" or node.is_split:
        return None
    jobs = top.static_jobs(node.name)
    return jobs[0] if jobs else None
