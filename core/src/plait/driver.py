"""The shared driver: walks a compiled graph on any :class:`plait.workers.Worker`.

It releases work per job, not per node: when an element of a node's output
exists, the downstream jobs whose inputs are now complete are expanded and
submitted at once (``B[x=1]`` runs when ``A[x=1]`` is done, whatever ``A``'s
other elements are doing). Cached jobs are served without the worker;
combines, runtime splits over an upstream output and workflow outputs wait
for exactly the elements they gather; nested workflows that could not be
flattened at compile time are driven here too (one loop for all levels).
When jobs fail, every successful result is kept and only what depends on a
failure is skipped.

Like ``dask/local.py``, the state is plain data and one loop:

- ``_events``: a FIFO of things that happened and still have consequences —
  ``("element", frame, node, element)`` (an output element of a node exists)
  and ``("complete", frame, node)`` (a node has all its elements);
- ``_in_flight``: checksum -> the jobs waiting for that job's result (the
  same job asked for twice runs once);
- per frame (one graph being driven: the top one, or a nested workflow
  job's), per node, a :class:`_NodeRun`: the upstream elements joined so far
  (:class:`~plait.state.Joiner`), the members (jobs and skipped elements) of
  each output element with how many it expects, and which were released.

``run`` handles events until none is left, then waits for the worker, feeds
the finished jobs back in, and repeats until nothing is in flight.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .cache import load_cached, store_outputs
from .errors import GraphError, PlaitError
from .graph import Element, Graph, Job, Member, NodeOutput, SkippedJob, compile
from .hooks import TaskHooks
from .labels import render_label
from .result import ErrorInfo, Result, Runtime
from .run import run_job
from .state import UNKNOWN, Joiner
from .workers.base import Worker
from .workers.debug import DebugWorker

__all__ = ["Driver", "Progress", "RunOutcome", "run_node", "run_workflow_job"]

logger = logging.getLogger(__name__)


@attrs.frozen
class Progress:
    """A progress event.

    ``status`` of job ``label`` of node ``node``: ``submitted`` (handed to the
    worker), ``cached`` (served from the cache), ``finished``, ``failed`` or
    ``skipped`` (an input it needs failed). Counts so far, this event
    included: ``done`` (cached + finished + failed + skipped), ``total``
    (jobs and skipped elements known so far; it grows as nodes expand, and
    equals ``done`` at the end), ``submitted``, ``cached``, ``failed``,
    ``skipped``.
    """

    status: str
    label: str
    node: str
    done: int
    total: int
    submitted: int
    cached: int = 0
    failed: int = 0
    skipped: int = 0


@attrs.define
class RunOutcome:
    """What a driven graph produced: outputs, failures, skipped elements, totals.

    ``cached`` is True when every job was served from the cache (none ran).
    """

    graph: Graph
    outputs: dict[str, Any]
    node_outputs: dict[str, NodeOutput]
    errors: list[ErrorInfo]
    skipped: list[str]
    runtime: Runtime
    cached: bool = False

    @property
    def errored(self) -> bool:
        """True if any job failed."""
        return bool(self.errors)

    def as_job_result(self, job: Job) -> Result:
        """The Result of a workflow job run as this outcome; stored if nothing failed."""
        result = Result(
            outputs=self.outputs,
            cache_dir=Path(job.cache_dir),
            errored=self.errored,
            errors=tuple(self.errors),
            runtime=self.runtime,
            skipped=tuple(self.skipped),
        )
        if not self.errored:
            store_outputs(job.cache_dir, self.outputs, self.runtime)
        return result


class _NodeRun:
    """One node's progress in one frame."""

    def __init__(self, graph: Graph, name: str) -> None:
        node = graph.nodes[name]
        self.name = name
        self.state = node.state
        self.joiner = Joiner(graph.upstream_positions(name))
        self.upstream_open = len(node.upstream)  # upstream nodes not complete yet
        self.members: dict[tuple[int, ...], list[tuple[tuple[int, ...], Member]]] = {}
        self.expected: dict[tuple[int, ...], int] = {}
        self.elements: dict[tuple[int, ...], Element] = {}
        self.complete = False


class _Frame:
    """The state of one graph being driven (the top one, or a nested workflow job's)."""

    def __init__(self, graph: Graph, parent: tuple[_Frame, str, Job] | None) -> None:
        self.graph = graph
        self.parent = parent
        self.runs = {name: _NodeRun(graph, name) for name in graph.nodes}
        self.outputs: dict[str, NodeOutput] = {}
        self.errors: list[ErrorInfo] = []
        self.skipped_labels: list[str] = []
        self.ran = 0  # jobs of this frame that ran (not served from the cache)
        self.finished = False
        self.cpu = 0.0
        self.peak_rss = 0
        self.started = time.perf_counter()


class Driver:
    """Drive graphs on ``worker``, calling ``hooks`` and ``progress`` along the way."""

    def __init__(
        self,
        worker: Worker,
        hooks: TaskHooks | None = None,
        progress: Callable[[Progress], Any] | None = None,
    ) -> None:
        self.worker = worker
        self.hooks = hooks or TaskHooks()
        self.progress = progress
        self._events: deque[tuple[Any, ...]] = deque()
        self._in_flight: dict[str, list[tuple[_Frame, str, Job]]] = {}
        self._counts = dict.fromkeys(
            ("done", "total", "submitted", "cached", "failed", "skipped"), 0
        )
        self._top: RunOutcome | None = None
        # the worker's report() hook, when it has one (events are made only when wanted)
        self._worker_report = worker.report if type(worker).report is not Worker.report else None

    def run(self, graph: Graph) -> RunOutcome:
        """Run every job of ``graph``; return its outputs, failures and skipped elements."""
        self.hooks.pre_run(graph)
        self.worker.start(graph)
        self._top = None
        self._start(_Frame(graph, parent=None))
        while True:
            while self._events:
                event = self._events.popleft()
                if event[0] == "element":
                    self._element(*event[1:])
                else:
                    self._node_complete(*event[1:])
            if not self._in_flight:
                break
            for job, result in self.worker.wait():
                self._finished(job, result)
        if self._top is None:
            raise GraphError(f"{graph.name}: the driver stopped before the graph finished")
        return self._top

    # -- frames -------------------------------------------------------------
    def _start(self, frame: _Frame) -> None:
        if not frame.graph.nodes:
            self._frame_done(frame)
            return
        for name, node in frame.graph.nodes.items():
            if not node.upstream:
                self._expand_row(frame, frame.runs[name], (), {})
                self._check_complete(frame, frame.runs[name])

    def _frame_done(self, frame: _Frame) -> None:
        outcome = RunOutcome(
            graph=frame.graph,
            outputs=frame.graph.outputs(frame.outputs),
            node_outputs=frame.outputs,
            errors=frame.errors,
            skipped=frame.skipped_labels,
            runtime=Runtime(
                wall=time.perf_counter() - frame.started, cpu=frame.cpu, peak_rss=frame.peak_rss
            ),
            cached=frame.ran == 0 and not frame.errors,
        )
        if frame.parent is None:
            self._top = outcome
            return
        parent, name, job = frame.parent
        parent.errors.extend(frame.errors)
        parent.skipped_labels.extend(frame.skipped_labels)
        parent.ran += frame.ran
        result = outcome.as_job_result(job)
        self._report("failed" if result.errored else "finished", job, name)
        self._member_done(parent, name, job, result, nested=True)

    # -- rows and jobs ------------------------------------------------------
    def _expand_row(
        self, frame: _Frame, run: _NodeRun, index: tuple[int, ...], upstream: Mapping[str, Element]
    ) -> None:
        graph = frame.graph
        try:
            jobs, skipped = graph.expand_row(run.name, index, upstream)
        except PlaitError as exc:  # e.g. an upstream value of the wrong type, unequal lengths
            state = tuple(pair for e in upstream.values() for axis in e.state for pair in axis)
            label = render_label(run.name, state)
            frame.errors.append(ErrorInfo.from_exception(exc, label))
            jobs, skipped = [], [SkippedJob(run.name, state, str(exc), index)]
        members: list[Job | SkippedJob] = [*jobs, *skipped]
        expected = run.expected
        for member in members:
            key = run.state.out_key(graph.member_index(run.name, member))
            expected[key] = expected.get(key, 0) + 1
        empty = None
        if run.state.combined and run.state.combines_all_own and not members:
            empty = run.state.out_key(index + (UNKNOWN,) * len(run.state.own))
            expected.setdefault(empty, 0)  # an empty own split still gives one (empty) element
        self._counts["total"] += len(jobs) + len(skipped)
        for s in skipped:
            frame.skipped_labels.append(s.label)
            self._report("skipped", s, run.name)
            self._member_done(frame, run.name, s, None)
        for job in jobs:
            self._dispatch(frame, run.name, job)
        if empty is not None:
            self._check_group(frame, run, empty)

    def _dispatch(self, frame: _Frame, name: str, job: Job) -> None:
        followers = self._in_flight.get(job.checksum)
        if followers is not None:  # the same job is already running: share its result
            followers.append((frame, name, job))
            return
        cached = load_cached(job.cache_dir, job.readonly_caches)
        if cached is not None:
            self._report("cached", job, name)
            self.hooks.post_run_task(job, cached)
            self._member_done(frame, name, job, cached)
            return
        self.hooks.pre_run_task(job)
        if job.kind == "workflow":
            sub = compile(
                job.definition,
                cache_root=frame.graph.cache_root,
                readonly_caches=frame.graph.readonly_caches,
                environment=frame.graph.environment,
            )
            self._start(_Frame(sub, parent=(frame, name, job)))
            return
        self._in_flight[job.checksum] = [(frame, name, job)]
        self._counts["submitted"] += 1
        self._report("submitted", job, name, done=False)
        self.worker.submit(job)

    def _finished(self, job: Job, result: Result) -> None:
        for frame, name, waiting in self._in_flight.pop(job.checksum, []):
            frame.ran += 1
            self._report("failed" if result.errored else "finished", waiting, name)
            self.hooks.post_run_task(waiting, result)
            self._member_done(frame, name, waiting, result)

    def _member_done(
        self,
        frame: _Frame,
        name: str,
        member: Job | SkippedJob,
        result: Result | None,
        nested: bool = False,
    ) -> None:
        run = frame.runs[name]
        index = frame.graph.member_index(name, member)
        key = run.state.out_key(index)
        if result is not None:
            if result.errored and not nested:
                frame.errors.extend(
                    attrs.evolve(e, job=e.job or member.label) for e in result.errors
                )
            frame.cpu += result.runtime.cpu
            frame.peak_rss = max(frame.peak_rss, result.runtime.peak_rss)
        if not run.state.combined:  # each job is an output element of its own
            self._release(frame, run, key, [(member, result)])
            return
        run.members.setdefault(key, []).append((index, (member, result)))
        self._check_group(frame, run, key)

    # -- elements and nodes -------------------------------------------------
    def _check_group(self, frame: _Frame, run: _NodeRun, key: tuple[int, ...]) -> None:
        if key in run.elements:
            return
        members = run.members.get(key, [])
        if len(members) < run.expected.get(key, 0) or key not in run.expected:
            return
        if run.state.combines_inherited and run.upstream_open:
            return  # rows that belong to this group may still come
        members.sort(key=lambda m: m[0])
        self._release(frame, run, key, [m for _, m in members])

    def _release(
        self, frame: _Frame, run: _NodeRun, key: tuple[int, ...], members: list[Member]
    ) -> None:
        element = frame.graph.element(run.name, key, members)
        run.elements[key] = element
        self._events.append(("element", frame, run.name, element))
        self._check_complete(frame, run)

    def _check_complete(self, frame: _Frame, run: _NodeRun) -> None:
        if run.complete or run.upstream_open or len(run.elements) < len(run.expected):
            return
        run.complete = True
        items = [run.elements[k] for k in sorted(run.elements)]
        if not items and run.state.combined and not run.state.kept:
            items.append(frame.graph.element(run.name, (), []))
        node = frame.graph.nodes[run.name]
        frame.outputs[run.name] = NodeOutput(run.name, node.out_axes, tuple(items))
        self._events.append(("complete", frame, run.name))

    def _element(self, frame: _Frame, name: str, element: Element) -> None:
        for down in frame.graph.downstream[name]:
            run = frame.runs[down]
            for index, upstream in run.joiner.add(name, element):
                self._expand_row(frame, run, index, upstream)

    def _node_complete(self, frame: _Frame, name: str) -> None:
        for down in frame.graph.downstream[name]:
            run = frame.runs[down]
            run.upstream_open -= 1
            if run.upstream_open == 0:
                for key in list(run.expected):
                    self._check_group(frame, run, key)
                self._check_complete(frame, run)
        if not frame.finished and all(r.complete for r in frame.runs.values()):
            frame.finished = True
            self._frame_done(frame)

    def _report(self, status: str, member: Job | SkippedJob, node: str, done: bool = True) -> None:
        counts = self._counts
        if done:
            counts["done"] += 1
        if status in ("cached", "failed", "skipped"):
            counts[status] += 1
        if self.progress is not None or self._worker_report is not None:
            event = Progress(status, member.label, node, **counts)
            if self._worker_report is not None:
                self._worker_report(event)
            if self.progress is not None:
                self.progress(event)


def run_workflow_job(job: Job) -> Result:
    """Run a nested workflow job (one the compiler could not flatten) in this process.

    Its inner graph is driven on the debug worker through the cache; the
    workflow's own result is stored under the job's directory. Hosts that
    meet such a job inside one of their tasks call this instead of
    :func:`plait.run_job` (which runs task jobs only).
    """
    cached = load_cached(job.cache_dir, job.readonly_caches)
    if cached is not None:
        return cached
    graph = compile(
        job.definition,
        cache_root=os.path.dirname(job.cache_dir),
        readonly_caches=job.readonly_caches,
        environment=job.environment,
    )
    with DebugWorker() as worker:
        outcome = Driver(worker).run(graph)
    return outcome.as_job_result(job)


def run_node(
    graph: Graph,
    name: str,
    upstream: Mapping[str, NodeOutput],
    run: Callable[[Job], Result] = run_job,
) -> NodeOutput:
    """Expand node ``name``, run each of its jobs with ``run``, and collect its output.

    For hosts that run a whole node in one of their tasks; jobs of a nested
    workflow node run with :func:`run_workflow_job`.
    """
    jobs, skipped = graph.expand(name, upstream)
    results = [run_workflow_job(j) if j.kind == "workflow" else run(j) for j in jobs]
    return graph.collect(name, jobs, results, skipped)
