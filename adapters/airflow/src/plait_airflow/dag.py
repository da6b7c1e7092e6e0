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

- a node without state: one task named after the node (``PlaitRunNode``);
- a split node: a task group named after the node with a dynamically mapped
  ``run`` task (``PlaitRunJobs``: one task instance per job or per batch of
  jobs, its map index labelled with the state, e.g. ``p=3`` or ``p=0…24``)
  and a ``collect`` task (``PlaitCollectNode``) that applies the combine;
  when the split depends on upstream outputs, an ``expand`` task
  (``PlaitExpandNode``) first computes the jobs at run time;
- a chain of split nodes without a combine between them: one mapped
  TaskGroup ``chain_<Head>`` over the head's elements with one
  ``PlaitRunElements`` task per node, then one ``<Node>.collect`` per node
  (:mod:`plait_airflow.pipelines`);
- a nested workflow's nodes: inside a TaskGroup named after it;
- and finally an ``outputs`` task (``PlaitWorkflowOutputs``) that pushes
  references to the workflow's outputs and fails the run if any job failed.

Each node's output task emits the Airflow Asset ``plait://<workflow>/<node>``
(:mod:`plait_airflow.assets`). The DAG's description and ``doc_md`` come from
the workflow's docstring.

Every Airflow process that runs a task parses the DAG file, so ``to_dag``
compiles the workflow again there; ``plait.compile`` is deterministic, so all
processes see the same jobs (DAG files must be deterministic for Airflow
anyway: build the definition from constants, not from the clock).
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from airflow.sdk import DAG, BaseOperator, TaskGroup, task_group

import plait
from plait import TaskDef

from . import config
from ._registry import CompiledWorkflow, register
from .assets import node_outlets
from .batches import batches
from .node_operators import (
    PlaitCollectNode,
    PlaitExpandNode,
    PlaitRunJobs,
    PlaitRunNode,
    PlaitWorkflowOutputs,
)
from .pipelines import PlaitRunElements, find_chains
from .subset import select_nodes
from .task_settings import TaskSettings, default_task_settings

__all__ = ["to_dag"]

#: how a mapped task instance's label is rendered: the state of its job(s) (``p=3``, ``p=0…24``)
MAP_INDEX_TEMPLATE = "{{ task.job_ref['label'] }}"
#: the same for the tasks of a pipelined chain: the state of the head's element(s)
CHAIN_INDEX_TEMPLATE = "{{ task.rows['label'] }}"


def to_dag(
    defn: TaskDef,
    dag_id: str | None = None,
    *,
    cache_root: str | os.PathLike[str] | None = None,
    readonly_caches: Sequence[str | os.PathLike[str]] = (),
    environment: Any = None,
    jobs_per_task: int | None = None,
    node_options: Mapping[str, Mapping[str, Any]] | None = None,
    task_settings: TaskSettings = default_task_settings,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    emit_assets: bool = True,
    outlets: Mapping[str, Sequence[Any]] | None = None,
    pipeline: bool = True,
    dag: DAG | None = None,
    outputs_task_id: str = "outputs",
    **dag_kwargs: Any,
) -> DAG:
    """Build an Airflow DAG whose tasks mirror the nodes of ``defn`` (a workflow or a task).

    :param cache_root: a path every Airflow worker sees (a shared filesystem):
        jobs, their results and the node outputs live there; XCom carries only
        small references. Default: ``[plait] cache_root`` of Airflow's
        configuration (``AIRFLOW__PLAIT__CACHE_ROOT``), else plait's default.
    :param jobs_per_task: jobs each mapped task instance of a split node runs
        (a contiguous batch, each job cached and reported on its own).
        Default: one per job up to ``[plait] max_tasks_per_node`` (64) task
        instances per node, batches beyond (:mod:`plait_airflow.batches`).
    :param node_options: Airflow operator arguments per node (``retries``,
        ``retry_delay``, ``pool``, ``pool_slots``, ``queue``,
        ``executor_config``, ...) for the tasks that run its jobs; they win
        over ``task_settings``.
    :param task_settings: a function of a :class:`plait.Node` giving those
        arguments from the node's definition (default:
        :func:`~plait_airflow.task_settings.default_task_settings`, which maps
        ``Resources`` to ``pool_slots`` and ``executor_config``).
    :param select: render only these nodes (``"Sum"``, ``"+Sum"`` with its
        upstream nodes, ``"Sum+"`` with its downstream nodes); nodes left out
        are read from the cache (:mod:`plait_airflow.subset`).
    :param exclude: nodes not to render (same selectors).
    :param emit_assets: each node's output task emits the Airflow Asset
        ``plait://<workflow>/<node>`` (:mod:`plait_airflow.assets`).
    :param outlets: assets per node name, declared instead of the default ones.
    :param pipeline: render each chain of split nodes without a combine between
        them as one mapped TaskGroup over the elements, so a downstream
        element starts as soon as its upstream element is done
        (:mod:`plait_airflow.pipelines`).
    :param dag: add the tasks to this DAG (``dag_kwargs`` must then be empty);
        otherwise ``dag_kwargs`` go to :class:`airflow.sdk.DAG`, with the
        workflow's docstring as ``description`` (first line) and ``doc_md``.
    """
    if not isinstance(defn, TaskDef):
        raise TypeError(f"to_dag() needs a plait definition instance, got {defn!r}")
    if dag is not None and (dag_kwargs or dag_id is not None):
        raise ValueError("to_dag(): pass either dag= or dag_id=/DAG arguments, not both")
    if jobs_per_task is not None and jobs_per_task < 1:
        raise ValueError(f"to_dag(): jobs_per_task must be a positive integer, got {jobs_per_task}")
    if cache_root is None:
        cache_root = config.cache_root()
    graph = plait.compile(defn, cache_root, readonly_caches, environment=environment)
    where = f"to_dag({graph.name})"
    rendered = select_nodes(graph, select, exclude, where)
    options = dict(node_options or {})
    extra_outlets = dict(outlets or {})
    for what, given in (("node_options", options), ("outlets", extra_outlets)):
        unknown = [name for name in given if name not in graph.nodes]
        if unknown:
            raise ValueError(
                f"{where}: {what} for unknown node(s) {unknown}; nodes: {', '.join(graph.nodes)}"
            )
    if outputs_task_id in graph.nodes:
        raise ValueError(
            f"{where}: a node is named {outputs_task_id!r}; pass another outputs_task_id="
        )
    if dag is None:
        doc = inspect.cleandoc(type(defn).__doc__ or "")
        if doc:
            dag_kwargs.setdefault("description", doc.splitlines()[0])
            dag_kwargs.setdefault("doc_md", doc)
        dag = DAG(dag_id=dag_id or graph.name, **dag_kwargs)
    wf = CompiledWorkflow(
        key=f"{dag.dag_id}/{graph.name}",
        graph=graph,
        output_tasks={},
        expand_tasks={},
        top_job=_workflow_job(defn, graph, readonly_caches, environment),
    )
    register(wf)
    renderer = _Renderer(
        wf=wf,
        jobs_per_task=jobs_per_task,
        settings={
            name: {**task_settings(graph.nodes[name]), **options.get(name, {})} for name in rendered
        },
        outlets={
            name: list(extra_outlets[name])
            if name in extra_outlets
            else (node_outlets(graph.name, graph.nodes[name]) if emit_assets else [])
            for name in rendered
        },
    )
    if pipeline:
        renderer.chains = find_chains(graph, rendered, renderer.enclosing)
    with dag:
        for name in rendered:
            with renderer.group_of(name):
                renderer.render(name)
        final = PlaitWorkflowOutputs(task_id=outputs_task_id, workflow=wf.key)
        for out_task in renderer.out_tasks.values():
            out_task >> final
    return dag


@attrs.define
class _Renderer:
    """Adds the tasks of a compiled workflow's nodes to the DAG being built."""

    wf: CompiledWorkflow
    jobs_per_task: int | None
    settings: dict[str, dict[str, Any]]
    outlets: dict[str, list[Any]]
    chains: dict[str, list[str]] = attrs.field(factory=dict)
    out_tasks: dict[str, BaseOperator] = attrs.field(factory=dict)
    groups: dict[str, TaskGroup] = attrs.field(factory=dict)

    def render_chain(self, head: str, members: list[str]) -> None:
        """A pipelined chain: one mapped TaskGroup over the head's elements, then collects."""
        wf = self.wf
        refs = batches(wf.static_jobs(head), self.jobs_per_task, None)

        @task_group(group_id=f"chain_{self._task_id(head)}")
        def chain(rows: Any) -> None:
            tasks: dict[str, BaseOperator] = {}
            for name in members:
                opts = dict(self.settings[name])
                opts.setdefault("map_index_template", CHAIN_INDEX_TEMPLATE)
                tasks[name] = PlaitRunElements(
                    task_id=self._task_id(name),
                    workflow=wf.key,
                    node=name,
                    head=head,
                    rows=rows,
                    **opts,
                )
                for up in wf.graph.nodes[name].upstream:
                    if up in tasks:
                        tasks[up] >> tasks[name]

        group = chain.expand(rows=refs)
        for name in members:
            collect = PlaitCollectNode(
                task_id=f"{self._task_id(name)}.collect",
                workflow=wf.key,
                node=name,
                outlets=self.outlets[name],
            )
            group >> collect
            self._wire(name, collect)
            self.out_tasks[name] = collect
            wf.output_tasks[name] = collect.task_id

    def enclosing(self, name: str) -> list[str]:
        """The nested workflows ``name`` (a node or a group) belongs to, outermost first."""
        groups = getattr(self.wf.graph, "groups", {}) or {}
        return sorted((g for g, members in groups.items() if name in members), key=len)

    def group_of(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """Enter the TaskGroup of the nested workflow the node belongs to (if any)."""
        chain = self.enclosing(name)
        if not chain:
            return contextlib.nullcontext()
        stack = contextlib.ExitStack()
        parent = ""
        for group in chain:
            tg = self.groups.get(group)
            if tg is None:
                short = group[len(parent) + 1 :] if parent else group
                tg = self.groups[group] = TaskGroup(group_id=short)
            stack.enter_context(tg)
            parent = group
        return stack

    def _task_id(self, name: str) -> str:
        """The node's task id relative to its TaskGroup (Airflow prefixes the group ids)."""
        chain = self.enclosing(name)
        return name[len(chain[-1]) + 1 :] if chain else name

    def _wire(self, name: str, task: Any) -> None:
        for up in self.wf.graph.nodes[name].upstream:
            if up in self.out_tasks:
                self.out_tasks[up] >> task

    def render(self, name: str) -> None:
        """The tasks of one node: one task, or a TaskGroup of expand/run/collect.

        The head of a pipelined chain renders the whole chain; its other
        members are then already rendered.
        """
        if name in self.chains:
            self.render_chain(name, self.chains[name])
            return
        if name in self.out_tasks:
            return
        wf = self.wf
        node = wf.graph.nodes[name]
        opts = dict(self.settings[name])
        if not node.is_split:
            task = PlaitRunNode(
                task_id=self._task_id(name),
                workflow=wf.key,
                node=name,
                outlets=self.outlets[name],
                **opts,
            )
            self._wire(name, task)
            self.out_tasks[name] = task
            wf.output_tasks[name] = task.task_id
            return
        with TaskGroup(group_id=self._task_id(name)):
            mapped: Any
            expand = None
            if node.upstream:
                expand = PlaitExpandNode(
                    task_id="expand", workflow=wf.key, node=name, jobs_per_task=self.jobs_per_task
                )
                self._wire(name, expand)
                mapped = expand.output
                wf.expand_tasks[name] = expand.task_id
            else:
                mapped = batches(wf.static_jobs(name), self.jobs_per_task, None)
            opts.setdefault("map_index_template", MAP_INDEX_TEMPLATE)
            run = PlaitRunJobs.partial(task_id="run", workflow=wf.key, node=name, **opts).expand(
                job_ref=mapped
            )
            collect = PlaitCollectNode(
                task_id="collect", workflow=wf.key, node=name, outlets=self.outlets[name]
            )
            run >> collect
            if expand is not None:
                expand >> collect
        self.out_tasks[name] = collect
        wf.output_tasks[name] = collect.task_id


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
