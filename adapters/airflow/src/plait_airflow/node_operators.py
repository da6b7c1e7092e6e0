"""The Airflow operators :func:`plait_airflow.to_dag` builds, one kind per step of a node.

- :class:`PlaitRunNode` — a node without state: expand, run its one job, store its output.
- :class:`PlaitExpandNode` — a split node fed by upstream nodes: expands it at
  run time from their stored outputs and pushes one small reference per mapped
  task instance (a batch of jobs, see :mod:`plait_airflow.batches`).
- :class:`PlaitRunJobs` — mapped, one task instance per batch of jobs: ``run_job`` each.
- :class:`PlaitCollectNode` — applies the node's combine to its jobs' cached results.
- :class:`PlaitWorkflowOutputs` — the workflow's outputs; fails the run if any job failed.

Each operator finds its compiled graph in the per-process registry
(:mod:`plait_airflow._registry`) filled when the DAG file calls ``to_dag``.
Node outputs and run-time expansions are stored in the shared ``cache_root``
(:mod:`plait_airflow._store`); XCom carries only their names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from airflow.sdk import BaseOperator, TriggerRule
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

import plait
from plait import Job, NodeOutput, PlaitError, Result, SkippedJob
from plait.cache import store_outputs
from plait.errors import failure_report

from . import _store
from ._registry import CompiledWorkflow, lookup
from .assets import file_paths, files_alias

#: XCom key under which an expand task pushes its expansion's reference
EXPANSION_KEY = "plait_expansion"
#: XCom key under which the outputs task pushes the reference to the exact outputs
OUTPUTS_KEY = "plait_outputs"

_UI_COLOR = "#d9ecf2"


class TaskLog(Protocol):
    """What the helpers need of an operator's ``self.log``."""

    def info(self, event: Any, *args: Any, **kw: Any) -> Any: ...

    def warning(self, event: Any, *args: Any, **kw: Any) -> Any: ...


class _PlaitNodeTask(BaseOperator):
    """Base of the tasks of one node of a compiled workflow."""

    ui_color = _UI_COLOR

    def __init__(self, *, workflow: str, node: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workflow = workflow
        self.node = node

    @property
    def compiled(self) -> CompiledWorkflow:
        """The compiled workflow this task belongs to."""
        return lookup(self.workflow)

    def upstream_outputs(self, context: Mapping[str, Any]) -> dict[str, NodeOutput]:
        """The stored outputs of this node's upstream nodes (failed ones if missing)."""
        wf = self.compiled
        return {
            up: pull_output(context, wf, up, self.log) for up in wf.graph.nodes[self.node].upstream
        }

    def store(self, context: Mapping[str, Any], out: NodeOutput) -> dict[str, Any]:
        """Store the node's output; attach its files to the node's files alias; the summary."""
        wf = self.compiled
        alias = files_alias(wf.graph.name, self.node)
        if any(getattr(o, "name", None) == alias.name for o in self.outlets):
            from airflow.sdk import Asset

            for elem in out.items:
                for path in file_paths(elem.outputs or {}):
                    context["outlet_events"][alias].add(Asset(uri=f"file://{path}", group="plait"))
        return store_output(wf, out)


def pull_output(
    context: Mapping[str, Any], wf: CompiledWorkflow, node: str, log: TaskLog
) -> NodeOutput:
    """A node's output: through the reference its task pushed, or from the cache if not rendered."""
    if node not in wf.output_tasks:
        return cached_output(wf, node, {})
    pushed = context["ti"].xcom_pull(task_ids=wf.output_tasks[node])
    if not pushed:
        log.warning("no output of %s was stored (its task failed): counting it as failed", node)
        return wf.graph.failed_output(node)
    return _store.load_output(wf.cache_root, pushed["output"])


def cached_output(wf: CompiledWorkflow, node: str, memo: dict[str, NodeOutput]) -> NodeOutput:
    """The output of a node this DAG does not render, from the cache (subset rendering).

    Raises AirflowFailException naming the node's jobs that are not in the cache.
    """
    if node in memo:
        return memo[node]
    graph = wf.graph
    upstream = {up: cached_output(wf, up, memo) for up in graph.nodes[node].upstream}
    jobs, skipped = graph.expand(node, upstream)
    results = [_store.job_result(job) for job in jobs]
    missing = [j.label for j, r in zip(jobs, results) if r.errored]
    if missing or skipped:
        shown = ", ".join([*missing, *(s.label for s in skipped)][:10])
        raise AirflowFailException(
            f"{node} is not rendered in this DAG (select=/exclude=) and its results are not "
            f"all in the cache {wf.cache_root}: missing {len(missing) + len(skipped)} job(s): "
            f"{shown}. Run them first, or render them (e.g. select=['+{node}'])."
        )
    memo[node] = out = graph.collect(node, jobs, results, skipped)
    return out


def store_output(wf: CompiledWorkflow, out: NodeOutput) -> dict[str, Any]:
    """Store a node's output in the cache root; the small summary its task pushes to XCom."""
    ref = _store.save_output(wf.cache_root, out.node, out)
    failed = sum(1 for e in out.items if not e.ok)
    return {"node": out.node, "output": ref, "elements": len(out.items), "failed": failed}


def _run(job: Job) -> Result:
    # a split workflow's elements stay workflow jobs: driven inside this task
    return plait.run_workflow_job(job) if job.kind == "workflow" else plait.run_job(job)


def run_jobs(jobs: Sequence[Job], log: TaskLog, raise_errors: bool = True) -> list[Result]:
    """Run jobs through the cache, one after another; raise if any failed (after all ran)."""
    results = []
    for job in jobs:
        result = _run(job)
        how = "cached" if result.cached else ("failed" if result.errored else "ran")
        log.info("%s %s in %s", job.label, how, job.cache_dir)
        results.append(result)
    if raise_errors:
        raise_failures(results)
    return results


def raise_failures(results: Sequence[Result]) -> None:
    """Raise one AirflowException with the core's report of every failed job."""
    errors = [e for r in results if r.errored for e in r.errors]
    if errors:
        raise AirflowException(failure_report(errors))


class PlaitRunNode(_PlaitNodeTask):
    """A node without state: its one job (expanded from the upstream outputs), run and stored.

    Skipped when an input it needs failed upstream; fails when its job fails.
    """

    def __init__(self, *, workflow: str, node: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(workflow=workflow, node=node, **kwargs)

    def execute(self, context: Any) -> Any:
        """Expand the node, run its job, push the reference to its output."""
        wf = self.compiled
        graph = wf.graph
        results: list[Result] = []

        def run(job: Job) -> Result:
            results.extend(run_jobs([job], self.log, raise_errors=False))
            return results[-1]

        try:
            out = plait.run_node(graph, self.node, self.upstream_outputs(context), run=run)
        except PlaitError as exc:
            context["ti"].xcom_push(
                "return_value", store_output(wf, graph.failed_output(self.node))
            )
            raise AirflowFailException(f"{self.node}: {exc}") from exc
        summary = self.store(context, out)
        if not out.ok:
            context["ti"].xcom_push("return_value", summary)
            errors = [e for r in results if r.errored for e in r.errors]
            if errors:
                raise AirflowException(failure_report(errors))
            if all(not e.jobs for e in out.items):
                raise AirflowSkipException(f"{self.node}: an input it needs failed upstream")
            raise AirflowException(f"{self.node} failed: see its job's record in the cache")
        return summary


class PlaitExpandNode(_PlaitNodeTask):
    """Expands a split node at run time; pushes one reference per mapped task instance."""

    def __init__(
        self, *, workflow: str, node: str, jobs_per_task: int | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(workflow=workflow, node=node, **kwargs)
        self.jobs_per_task = jobs_per_task

    def execute(self, context: Any) -> Any:
        """Store the node's jobs in the cache root; return the mapped task instances' refs."""
        from .batches import batches

        wf = self.compiled
        try:
            jobs, skipped = wf.graph.expand(self.node, self.upstream_outputs(context))
        except PlaitError as exc:
            raise AirflowFailException(f"{self.node}: {exc}") from exc
        ref = _store.save_expansion(wf.cache_root, self.node, jobs, skipped)
        context["ti"].xcom_push(EXPANSION_KEY, ref)
        for s in skipped:
            self.log.info("%s skipped: %s", s.label, s.reason)
        return batches(jobs, self.jobs_per_task, ref)


class PlaitRunJobs(_PlaitNodeTask):
    """One mapped task instance: the batch of the node's jobs ``job_ref`` points to.

    Every job runs through the cache (a retried or cleared batch reruns only
    its unfinished jobs); the task instance fails naming each failed job.
    """

    def __init__(self, *, workflow: str, node: str, job_ref: Any, **kwargs: Any) -> None:
        super().__init__(workflow=workflow, node=node, **kwargs)
        self.job_ref = job_ref

    def execute(self, context: Any) -> None:
        """Run the batch's jobs through the cache; fail if one failed."""
        wf = self.compiled
        ref = self.job_ref
        if ref.get("expansion"):
            jobs, _ = _store.load_expansion(wf.cache_root, ref["expansion"])
        else:
            jobs = wf.static_jobs(self.node)
        run_jobs(jobs[ref["start"] : ref["stop"]], self.log)


class PlaitCollectNode(_PlaitNodeTask):
    """Applies a split node's combine to its jobs' cached results and stores the output."""

    def __init__(self, *, workflow: str, node: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(workflow=workflow, node=node, **kwargs)

    def execute(self, context: Any) -> Any:
        """Store the node's output; push a reference to it."""
        wf = self.compiled
        jobs: list[Job]
        skipped: list[SkippedJob] = []
        if self.node in wf.expand_tasks:
            ref = context["ti"].xcom_pull(task_ids=wf.expand_tasks[self.node], key=EXPANSION_KEY)
            if not ref:
                self.log.warning("%s could not be expanded: its output counts as failed", self.node)
                return store_output(wf, wf.graph.failed_output(self.node))
            jobs, skipped = _store.load_expansion(wf.cache_root, ref)
        elif wf.graph.nodes[self.node].upstream:  # a pipelined node: its jobs ran per element
            jobs, skipped = wf.graph.expand(self.node, self.upstream_outputs(context))
        else:
            jobs = wf.static_jobs(self.node)
        results = [_store.job_result(job) for job in jobs]
        failed = [j.label for j, r in zip(jobs, results) if r.errored]
        if failed:
            self.log.warning(
                "%d job(s) of %s failed: %s", len(failed), self.node, ", ".join(failed)
            )
        return self.store(context, wf.graph.collect(self.node, jobs, results, skipped))


class PlaitWorkflowOutputs(BaseOperator):
    """The workflow's outputs (references to them in XCom); fails the DAG run if any job failed.

    When the workflow finished without failures its result is also stored
    where ``Submitter`` would store it, so later runs on any host reuse it.
    """

    ui_color = "#b6dcb6"

    def __init__(self, *, workflow: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(**kwargs)
        self.workflow = workflow

    def execute(self, context: Any) -> Any:
        """Gather the node outputs, push references to the outputs, fail if anything failed."""
        wf = lookup(self.workflow)
        graph = wf.graph
        node_outputs = {name: pull_output(context, wf, name, self.log) for name in wf.output_tasks}
        outputs = {
            field: value
            for field, value in graph.outputs(_with_missing(graph, node_outputs)).items()
            if getattr(graph.outputs_spec[field], "node", None) in (None, *node_outputs)
        }
        ref = _store.save_output(wf.cache_root, graph.name, outputs)
        pointer = {_store.REF_KEY: ref, "cache_root": wf.cache_root}
        context["ti"].xcom_push(OUTPUTS_KEY, {"ref": ref, "cache_root": wf.cache_root})
        bad = [out for out in node_outputs.values() if not out.ok]
        if bad:
            kinds = {name: node.kind for name, node in graph.nodes.items()}
            raise AirflowFailException(
                f"{graph.name}: " + _store.describe_failures(bad, wf.cache_root, kinds)
            )
        if wf.top_job is not None and len(wf.output_tasks) == len(graph.nodes):
            store_outputs(wf.top_job.cache_dir, outputs)  # the record Submitter's runs share
        return {f: _store.to_xcom(v, {**pointer, "field": f}) for f, v in outputs.items()}


def _with_missing(graph: plait.Graph, outs: dict[str, NodeOutput]) -> dict[str, NodeOutput]:
    # nodes a subset DAG does not render: their outputs are left out of the workflow outputs
    return {name: outs.get(name) or graph.failed_output(name) for name in graph.nodes}
