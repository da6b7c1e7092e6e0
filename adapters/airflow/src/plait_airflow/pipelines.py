"""Element pipelining: a chain of split nodes as one mapped TaskGroup over the elements.

In ``A.split(x=...) -> B(x=A.out) -> C(y=B.out)`` without a combine between
them, ``B[x=1]`` needs only ``A[x=1]``. ``to_dag`` renders such a chain as one
mapped TaskGroup ``chain_A`` over A's elements (in batches, see
:mod:`plait_airflow.batches`) holding one task per node of the chain, so
Airflow starts ``B[x=1]`` as soon as ``A[x=1]`` is done, whatever A's other
elements are doing. After the group, one ``<Node>.collect`` task per node
gathers its output for the rest of the DAG.

A chain starts at a split node whose jobs are known when the DAG file is
parsed (no upstream node) and grows through downstream nodes that read only
the previous node, split (if at all) over values known when the DAG file is
parsed, and belong to the same nested workflow. A node that combines ends the chain (its jobs still run per
element; its ``collect`` gathers them); so does a split over a run-time value.
``to_dag(..., pipeline=False)`` renders every node on its own instead.

Each task of the group computes its node's jobs for its rows with the core's
per-element API (:meth:`plait.Graph.expand_row`, :meth:`plait.Graph.element`)
from the upstream results in the cache: nothing but the batch's bounds
travels in XCom.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from airflow.sdk import TriggerRule
from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from plait import Element, Graph, Job, Result, SkippedJob
from plait.errors import failure_report

from . import _store
from .node_operators import _PlaitNodeTask, run_jobs

__all__ = ["PlaitRunElements", "find_chains"]


def find_chains(
    graph: Graph, rendered: Sequence[str], group_of: Callable[[str], list[str]]
) -> dict[str, list[str]]:
    """The chains to pipeline: head node -> its members (head first, topological order)."""
    chosen = set(rendered)
    taken: set[str] = set()
    chains: dict[str, list[str]] = {}
    for head in rendered:
        node = graph.nodes[head]
        if head in taken or node.upstream or not node.own or node.combined:
            continue
        if graph.static_indices(head) is None:
            continue
        members = [head]
        frontier = [head]
        while frontier:
            current = frontier.pop(0)
            if graph.nodes[current].combined:
                continue  # a combine ends the chain
            for name in graph.downstream[current]:
                down = graph.nodes[name]
                if (
                    name in chosen
                    and name not in taken
                    and down.upstream == (current,)
                    and down.is_split
                    and group_of(name) == group_of(head)
                    and graph.static_indices(name) is not None
                ):
                    members.append(name)
                    frontier.append(name)
        if len(members) > 1:
            order = list(graph.nodes)
            chains[head] = sorted(members, key=order.index)
            taken.update(members)
    return chains


class _Rows:
    """The jobs and output elements of a chain's nodes, one row (head element) at a time."""

    def __init__(self, graph: Graph, head: str, head_jobs: Sequence[Job]) -> None:
        self.graph = graph
        self.head = head
        self.head_jobs = {job.index: job for job in head_jobs}
        self._elements: dict[tuple[str, tuple[int, ...]], Element] = {}

    def members(self, name: str, row: tuple[int, ...]) -> tuple[list[Job], list[SkippedJob]]:
        """The jobs (and skipped elements) of node ``name`` in the head's row ``row``.

        A node with a split of its own has several jobs per row; the next node
        runs once per such job.
        """
        if name == self.head:
            return [self.head_jobs[row]], []
        graph = self.graph
        (up,) = graph.nodes[name].upstream
        up_jobs, up_skipped = self.members(up, row)
        jobs: list[Job] = []
        skipped: list[SkippedJob] = []
        upstream_members: list[Job | SkippedJob] = [*up_jobs, *up_skipped]
        for member in upstream_members:
            row_of_name = graph.out_key(up, graph.member_index(up, member))
            got, skip = graph.expand_row(name, row_of_name, {up: self.element(up, member)})
            jobs += got
            skipped += skip
        return jobs, skipped

    def element(self, name: str, member: Job | SkippedJob) -> Element:
        """The output element a job (or skipped element) of ``name`` gives, from the cache."""
        graph = self.graph
        index = graph.member_index(name, member)
        found = self._elements.get((name, index))
        if found is None:
            result = _store.job_result(member) if isinstance(member, Job) else None
            key = graph.out_key(name, index)
            found = self._elements[(name, index)] = graph.element(name, key, [(member, result)])
        return found


class PlaitRunElements(_PlaitNodeTask):
    """One node's jobs for a batch of a chain's elements (a task of a mapped TaskGroup).

    ``rows`` is the batch (``start``/``stop`` over the chain head's jobs, and
    its ``label``). Elements whose upstream element failed are skipped; the
    task fails naming each failed job, and is skipped when every element was.
    """

    template_fields: Sequence[str] = ("rows",)

    def __init__(self, *, workflow: str, node: str, head: str, rows: Any, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(workflow=workflow, node=node, **kwargs)
        self.head = head
        self.rows = rows

    def execute(self, context: Any) -> None:
        """Run this node's jobs of every row of the batch through the cache."""
        wf = self.compiled
        head_jobs = wf.static_jobs(self.head)
        rows = _Rows(wf.graph, self.head, head_jobs)
        results: list[Result] = []
        skipped: list[SkippedJob] = []
        for job in head_jobs[self.rows["start"] : self.rows["stop"]]:
            jobs, skip = rows.members(self.node, job.index)
            skipped += skip
            results += run_jobs(jobs, self.log, raise_errors=False)
        errors = [e for r in results if r.errored for e in r.errors]
        if errors:
            raise AirflowException(failure_report(errors, [s.label for s in skipped]))
        if skipped and not results:
            raise AirflowSkipException(
                f"{self.node}: skipped {', '.join(s.label for s in skipped)}: "
                "an input they need failed upstream"
            )
        for s in skipped:
            self.log.info("%s skipped: %s", s.label, s.reason)
