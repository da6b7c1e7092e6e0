"""The Airflow operators :func:`plait_airflow.to_dag` builds, one kind per step of a node.

- :class:`NodeOperator` — a node without state: expand, run its one job, collect.
- :class:`ExpandOperator` — a split node fed by upstream nodes: expands it at
  run time from their stored outputs and pushes one small reference per mapped
  task instance (a job, or a batch of jobs when the split exceeds
  ``[core] max_map_length``).
- :class:`RunOperator` — mapped, one task instance per job (or batch): ``run_job``.
- :class:`CollectOperator` — applies the node's combine to its jobs' cached results.
- :class:`OutputsOperator` — the workflow's outputs; fails the run if any job failed.

Each operator finds its compiled graph in a per-process registry filled when
the DAG file calls ``to_dag`` (every Airflow worker parses the DAG file before
running a task instance, and ``plait.compile`` is deterministic). Node outputs
and run-time expansions are stored in the shared ``cache_root``
(:mod:`plait_airflow._store`); XCom carries only their names.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from airflow.sdk import BaseOperator, TriggerRule
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

import plait
from plait import Graph, Job, NodeOutput, PlaitError, Result, SkippedJob
from plait.cache import store_outputs

from . import _store

logger = logging.getLogger(__name__)

#: XCom key under which an expand task pushes its expansion's reference
EXPANSION_KEY = "plait_expansion"
#: XCom key under which the outputs task pushes the reference to the exact outputs
OUTPUTS_KEY = "plait_outputs"


@attrs.define
class CompiledWorkflow:
    """A compiled graph and what the tasks built from it need to find each other."""

    key: str
    graph: Graph
    output_tasks: dict[str, str]
    expand_tasks: dict[str, str]
    top_job: Job | None
    _static: dict[str, list[Job]] = attrs.field(factory=dict)

    def static_jobs(self, node: str) -> list[Job]:
        """The jobs of a node without upstream nodes (computed once per process)."""
        jobs = self._static.get(node)
        if jobs is None:
            jobs = self._static[node] = self.graph.static_jobs(node) or []
        return jobs

    @property
    def cache_root(self) -> str:
        """The shared cache root of every job of the graph."""
        return self.graph.cache_root


_REGISTRY: dict[str, CompiledWorkflow] = {}


def register(workflow: CompiledWorkflow) -> None:
    """Make ``workflow`` findable by the tasks of this process."""
    _REGISTRY[workflow.key] = workflow


def lookup(key: str) -> CompiledWorkflow:
    """The workflow registered under ``key`` (the DAG file registers it when parsed)."""
    try:
        return _REGISTRY[key]
    except KeyError:
        raise AirflowFailException(
            f"plait workflow {key!r} is not registered in this process: the DAG file that "
            "calls plait_airflow.to_dag() must be parsed before its tasks run"
        ) from None


class _PlaitTask(BaseOperator):
    """Base of the tasks of one node of a compiled workflow."""

    ui_color = "#d9ecf2"

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
        out: dict[str, NodeOutput] = {}
        for up in wf.graph.nodes[self.node].upstream:
            out[up] = pull_output(context, wf, up)
        return out


def pull_output(context: Mapping[str, Any], wf: CompiledWorkflow, node: str) -> NodeOutput:
    """A node's output, through the reference its output task pushed to XCom."""
    pushed = context["ti"].xcom_pull(task_ids=wf.output_tasks[node])
    if not pushed:
        logger.warning("no output of %s was stored (its task failed): counting it as failed", node)
        return wf.graph.failed_output(node)
    return _store.load_output(wf.cache_root, pushed["output"])


def store_output(wf: CompiledWorkflow, out: NodeOutput) -> dict[str, Any]:
    """Store a node's output in the cache root; the small summary its task pushes to XCom."""
    ref = _store.save_output(wf.cache_root, out.node, out)
    failed = sum(1 for e in out.items if not e.ok)
    return {"node": out.node, "output": ref, "elements": len(out.items), "failed": failed}


def _run(job: Job) -> Result:
    # a split workflow's elements stay workflow jobs: driven inside this task
    return plait.run_workflow_job(job) if job.kind == "workflow" else plait.run_job(job)


def run_jobs(jobs: Sequence[Job]) -> list[Result]:
    """Run jobs through the cache, one after another; raise if any failed (after all ran)."""
    results = []
    for job in jobs:
        result = _run(job)
        how = "cached" if result.cached else ("failed" if result.errored else "ran")
        logger.info("%s %s in %s", job.label, how, job.cache_dir)
        results.append(result)
    raise_failures(jobs, results)
    return results


def raise_failures(jobs: Sequence[Job], results: Sequence[Result]) -> None:
    """Raise one AirflowException naming every failed job and the first traceback."""
    failed = [(j, r) for j, r in zip(jobs, results) if r.errored]
    if not failed:
        return
    lines = [f"{len(failed)} of {len(jobs)} job(s) failed"]
    for job, result in failed:
        for err in result.errors:
            lines.append(f"- {job.label}: {err.type}: {err.message}")
    first = failed[0][1].errors
    if first:
        lines.append(first[0].traceback.rstrip())
    raise AirflowException("\n".join(lines))


class NodeOperator(_PlaitTask):
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
        try:
            jobs, skipped = graph.expand(self.node, self.upstream_outputs(context))
        except PlaitError as exc:
            context["ti"].xcom_push(
                "return_value", store_output(wf, graph.failed_output(self.node))
            )
            raise AirflowFailException(f"{self.node}: {exc}") from exc
        results = [_run(job) for job in jobs]
        for job, result in zip(jobs, results):
            how = "cached" if result.cached else ("failed" if result.errored else "ran")
            logger.info("%s %s in %s", job.label, how, job.cache_dir)
        summary = store_output(wf, graph.collect(self.node, jobs, results, skipped))
        if skipped:
            context["ti"].xcom_push("return_value", summary)
            raise AirflowSkipException(f"{self.node}: an input it needs failed upstream")
        if any(r.errored for r in results):
            context["ti"].xcom_push("return_value", summary)
            raise_failures(jobs, results)
        return summary


class ExpandOperator(_PlaitTask):
    """Expands a split node at run time; pushes one reference per mapped task instance."""

    def __init__(self, *, workflow: str, node: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(workflow=workflow, node=node, **kwargs)

    def execute(self, context: Any) -> Any:
        """Store the node's jobs in the cache root; return the mapped task instances' refs."""
        wf = self.compiled
        try:
            jobs, skipped = wf.graph.expand(self.node, self.upstream_outputs(context))
        except PlaitError as exc:
            raise AirflowFailException(f"{self.node}: {exc}") from exc
        ref = _store.save_expansion(wf.cache_root, self.node, jobs, skipped)
        context["ti"].xcom_push(EXPANSION_KEY, ref)
        for s in skipped:
            logger.info("%s skipped: %s", s.label, s.reason)
        return job_refs(jobs, ref)


def max_map_length() -> int:
    """Airflow's ``[core] max_map_length``: the most task instances one mapped task may have."""
    from airflow.sdk.configuration import conf

    return max(1, conf.getint("core", "max_map_length", fallback=1024))


def job_refs(jobs: Sequence[Job], expansion: str | None) -> list[dict[str, Any]]:
    """One small reference per mapped task instance: a job, or a batch when there are too many."""
    n = len(jobs)
    limit = max_map_length()
    size = -(-n // limit) if n > limit else 1
    refs = []
    for start in range(0, n, size):
        stop = min(start + size, n)
        first, last = jobs[start].state_label, jobs[stop - 1].state_label
        label = first if stop - start == 1 else f"{first} … {last}"
        refs.append({"start": start, "stop": stop, "label": label, "expansion": expansion})
    return refs


class RunOperator(_PlaitTask):
    """One mapped task instance: the job (or batch of jobs) ``job_ref`` points to."""

    def __init__(self, *, workflow: str, node: str, job_ref: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(workflow=workflow, node=node, **kwargs)
        self.job_ref = job_ref

    def execute(self, context: Any) -> None:
        """Run the job(s) through the cache; fail if one failed."""
        wf = self.compiled
        ref = self.job_ref
        if ref.get("expansion"):
            jobs, _ = _store.load_expansion(wf.cache_root, ref["expansion"])
        else:
            jobs = wf.static_jobs(self.node)
        run_jobs(jobs[ref["start"] : ref["stop"]])


class CollectOperator(_PlaitTask):
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
                logger.warning("%s could not be expanded: its output counts as failed", self.node)
                return store_output(wf, wf.graph.failed_output(self.node))
            jobs, skipped = _store.load_expansion(wf.cache_root, ref)
        else:
            jobs = wf.static_jobs(self.node)
        results = [_store.job_result(job) for job in jobs]
        failed = [j.label for j, r in zip(jobs, results) if r.errored]
        if failed:
            logger.warning("%d job(s) of %s failed: %s", len(failed), self.node, ", ".join(failed))
        return store_output(wf, wf.graph.collect(self.node, jobs, results, skipped))


class OutputsOperator(BaseOperator):
    """The workflow's outputs, pushed to XCom; fails the DAG run if any job failed.

    When the workflow finished without failures its result is also stored
    where ``Submitter`` would store it, so later runs on any host reuse it.
    """

    ui_color = "#b6dcb6"

    def __init__(self, *, workflow: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(**kwargs)
        self.workflow = workflow

    def execute(self, context: Any) -> Any:
        """Gather the node outputs, push the workflow outputs, fail if anything failed."""
        wf = lookup(self.workflow)
        graph = wf.graph
        node_outputs = {name: pull_output(context, wf, name) for name in graph.nodes}
        outputs = graph.outputs(node_outputs)
        ref = _store.save_output(wf.cache_root, graph.name, outputs)
        context["ti"].xcom_push(OUTPUTS_KEY, {"ref": ref, "cache_root": wf.cache_root})
        bad = [out for out in node_outputs.values() if not out.ok]
        if bad:
            kinds = {name: node.kind for name, node in graph.nodes.items()}
            raise AirflowFailException(
                f"{graph.name}: some jobs failed or were skipped because of a failure:\n"
                + _store.describe_failures(bad, wf.cache_root, kinds)
            )
        if wf.top_job is not None:  # the record Submitter's runs share
            store_outputs(wf.top_job.cache_dir, outputs)
        base = {_store.REF_KEY: ref, "cache_root": wf.cache_root}
        return {f: _store.to_xcom(v, {**base, "field": f}) for f, v in outputs.items()}
