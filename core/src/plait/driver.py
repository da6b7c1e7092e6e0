"""The shared driver: walks a compiled graph on any :class:`plait.workers.Worker`.

It expands each node into jobs as soon as its upstream nodes are done,
serves cached jobs without the worker, hands the rest to the worker, applies
combines, expands nested workflows itself (one loop for all levels), and when
jobs fail keeps every successful result and skips only what depends on a
failure. Like ``dask/local.py``: plain dicts and a ready queue, one loop.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .cache import load_cached, store_outputs
from .errors import PlaitError
from .graph import Graph, Job, NodeOutput, SkippedJob, compile
from .hooks import TaskHooks
from .result import ErrorInfo, Result, Runtime

if TYPE_CHECKING:
    from .workers.base import Worker

logger = logging.getLogger(__name__)


@attrs.frozen
class Progress:
    """A progress event: ``status`` of job ``label`` (``submitted``, ``cached``,
    ``finished``, ``failed`` or ``skipped``), with counts so far."""

    status: str
    label: str
    done: int
    submitted: int


@attrs.define
class RunOutcome:
    """What a driven graph produced: outputs, failures, skipped elements, totals."""

    graph: Graph
    outputs: dict[str, Any]
    node_outputs: dict[str, NodeOutput]
    errors: list[ErrorInfo]
    skipped: list[str]
    runtime: Runtime

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


class _Frame:
    """The state of one graph being driven (the top one, or a nested workflow job's)."""

    def __init__(self, graph: Graph, parent: tuple[_Frame, str, int] | None) -> None:
        self.graph = graph
        self.parent = parent
        self.jobs: dict[str, list[Job]] = {}
        self.results: dict[str, list[Result | None]] = {}
        self.skipped: dict[str, list[SkippedJob]] = {}
        self.pending: dict[str, int] = {}
        self.outputs: dict[str, NodeOutput] = {}
        self.waiting = {name: len(node.upstream) for name, node in graph.nodes.items()}
        self.downstream: dict[str, list[str]] = {name: [] for name in graph.nodes}
        for name, node in graph.nodes.items():
            for up in node.upstream:
                self.downstream[up].append(name)
        self.errors: list[ErrorInfo] = []
        self.skipped_labels: list[str] = []
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
        self._ready: deque[tuple[_Frame, str]] = deque()
        self._in_flight: dict[str, list[tuple[_Frame, str, int, Job]]] = {}
        self._submitted = 0
        self._done = 0
        self._top: RunOutcome | None = None

    def run(self, graph: Graph) -> RunOutcome:
        """Run every job of ``graph``; return its outputs, failures and skipped elements."""
        self.hooks.pre_run(graph)
        top = _Frame(graph, parent=None)
        self._top = None
        self._start(top)
        while self._ready or self._in_flight:
            while self._ready:
                frame, name = self._ready.popleft()
                self._expand(frame, name)
            if self._in_flight:
                for job, result in self.worker.wait():
                    self._finished(job, result)
        assert self._top is not None, "the driver stopped before the graph finished"
        return self._top

    # -- frames -------------------------------------------------------------
    def _start(self, frame: _Frame) -> None:
        if not frame.graph.nodes:
            self._frame_done(frame)
            return
        for name, count in frame.waiting.items():
            if count == 0:
                self._ready.append((frame, name))

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
        )
        if frame.parent is None:
            self._top = outcome
            return
        parent, name, pos = frame.parent
        job = parent.jobs[name][pos]
        result = outcome.as_job_result(job)
        parent.errors.extend(frame.errors)
        parent.skipped_labels.extend(frame.skipped_labels)
        self._complete(parent, name, pos, result, nested=True)

    # -- nodes --------------------------------------------------------------
    def _expand(self, frame: _Frame, name: str) -> None:
        graph = frame.graph
        upstream = {u: frame.outputs[u] for u in graph.nodes[name].upstream}
        try:
            jobs, skipped = graph.expand(name, upstream)
        except PlaitError as exc:
            frame.errors.append(ErrorInfo.from_exception(exc, name))
            frame.skipped_labels.append(name)
            self._node_done(frame, name, graph.failed_output(name))
            return
        frame.jobs[name] = jobs
        frame.results[name] = [None] * len(jobs)
        frame.skipped[name] = skipped
        frame.pending[name] = len(jobs)
        for s in skipped:
            frame.skipped_labels.append(s.label)
            self._report("skipped", s.label)
        if not jobs:
            self._collect(frame, name)
            return
        for pos, job in enumerate(jobs):
            self._dispatch(frame, name, pos, job)

    def _dispatch(self, frame: _Frame, name: str, pos: int, job: Job) -> None:
        followers = self._in_flight.get(job.checksum)
        if followers is not None:  # the same job is already running: share its result
            followers.append((frame, name, pos, job))
            return
        cached = load_cached(job.cache_dir, job.readonly_caches)
        if cached is not None:
            self._report("cached", job.label)
            self.hooks.post_run_task(job, cached)
            self._complete(frame, name, pos, cached)
            return
        self.hooks.pre_run_task(job)
        if job.kind == "workflow":
            sub = compile(
                job.definition,
                cache_root=frame.graph.cache_root,
                readonly_caches=frame.graph.readonly_caches,
                environment=frame.graph.environment,
            )
            self._start(_Frame(sub, parent=(frame, name, pos)))
            return
        self._in_flight[job.checksum] = [(frame, name, pos, job)]
        self._submitted += 1
        self._report("submitted", job.label)
        self.worker.submit(job)

    def _finished(self, job: Job, result: Result) -> None:
        waiters = self._in_flight.pop(job.checksum, [])
        self._report("failed" if result.errored else "finished", job.label)
        for frame, name, pos, waiting_job in waiters:
            self.hooks.post_run_task(waiting_job, result)
            self._complete(frame, name, pos, result)

    def _complete(
        self, frame: _Frame, name: str, pos: int, result: Result, nested: bool = False
    ) -> None:
        frame.results[name][pos] = result
        frame.pending[name] -= 1
        self._done += 1
        if result.errored and not nested:
            job = frame.jobs[name][pos]
            frame.errors.extend(attrs.evolve(e, job=e.job or job.label) for e in result.errors)
        frame.cpu += result.runtime.cpu
        frame.peak_rss = max(frame.peak_rss, result.runtime.peak_rss)
        if frame.pending[name] == 0:
            self._collect(frame, name)

    def _collect(self, frame: _Frame, name: str) -> None:
        out = frame.graph.collect(
            name, frame.jobs[name], frame.results[name], frame.skipped.get(name, ())
        )
        self._node_done(frame, name, out)

    def _node_done(self, frame: _Frame, name: str, out: NodeOutput) -> None:
        frame.outputs[name] = out
        for down in frame.downstream[name]:
            frame.waiting[down] -= 1
            if frame.waiting[down] == 0:
                self._ready.append((frame, down))
        if len(frame.outputs) == len(frame.graph.nodes):
            self._frame_done(frame)

    def _report(self, status: str, label: str) -> None:
        if self.progress is not None:
            self.progress(Progress(status, label, self._done, self._submitted))
