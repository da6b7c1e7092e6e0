"""The per-process registry of workflows compiled by ``to_dag``.

Every Airflow process that runs a task parses the DAG file first; the
``to_dag`` call there compiles the workflow (deterministically: same jobs,
same checksums) and registers it under ``<dag_id>/<workflow>``, where the
operators of its tasks find it. Nothing about the graph travels in XCom.
"""

from __future__ import annotations

import attrs
from airflow.sdk.exceptions import AirflowFailException

from plait import Graph, Job


@attrs.define
class CompiledWorkflow:
    """A compiled graph and what the tasks built from it need to find each other.

    ``output_tasks`` maps each rendered node to the task that stores its
    output (nodes a subset DAG does not render are read from the cache);
    ``expand_tasks`` the split nodes expanded at run time to their expand task.
    """

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
