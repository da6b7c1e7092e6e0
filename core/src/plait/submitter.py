"""``Submitter``: run a definition on a worker and get its :class:`Result`.

Example::

    with Submitter(worker="cf", n_procs=2, cache_root="/tmp/cache") as sub:
        result = sub(Powers(ps=[1, 2, 3]))
    result.outputs.total, result.errored, result.cache_dir, result.runtime
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .cache import job_dir_name
from .definition import TaskDef, install_runner
from .driver import Driver, Progress
from .graph import compile
from .hooks import TaskHooks
from .progress import progress_for
from .result import Result, Runtime
from .workers import Worker, get_worker

__all__ = ["Submitter"]


class Submitter:
    """Runs definitions on one worker with one cache.

    ``worker`` is a name (``"debug"``, ``"cf"``, ``"dask"`` ...) or a
    :class:`~plait.workers.Worker`; extra keyword arguments go to the
    worker. ``cache_root`` defaults to a per-user cache directory
    (``$PLAIT_CACHE_ROOT`` overrides it); ``readonly_caches`` are consulted
    before running. ``environment`` is where shell commands run
    (:mod:`plait.environments`); ``hooks`` are called along the way.
    ``progress``: ``None`` shows a live per-node display when standard error
    is a terminal, ``True``/``False`` force it on/off, a callable receives
    every :class:`~plait.Progress` event instead (:mod:`plait.progress`).
    """

    def __init__(
        self,
        worker: str | Worker | None = None,
        cache_root: str | os.PathLike[str] | None = None,
        readonly_caches: Sequence[str | os.PathLike[str]] = (),
        hooks: TaskHooks | None = None,
        environment: Any = None,
        progress: bool | Callable[[Progress], Any] | None = None,
        **worker_kwargs: Any,
    ) -> None:
        self._owns_worker = not isinstance(worker, Worker)
        self.worker = get_worker(worker, **worker_kwargs)
        self.cache_root = cache_root
        self.readonly_caches = tuple(readonly_caches)
        self.hooks = hooks or TaskHooks()
        self.environment = environment
        self.progress = progress

    def __call__(self, defn: TaskDef) -> Result:
        """Run ``defn`` (a task, a split task or a workflow) and return its Result.

        Failures do not raise here: check ``result.errored`` or call
        ``result.raise_for_errors()``.
        """
        if not isinstance(defn, TaskDef):
            raise TypeError(f"Submitter needs a task definition instance, got {defn!r}")
        started = time.perf_counter()
        graph = compile(
            defn,
            cache_root=self.cache_root,
            readonly_caches=self.readonly_caches,
            environment=self.environment,
            inline=False,
        )
        with progress_for(self.progress, graph, defn) as progress:
            outcome = Driver(self.worker, self.hooks, progress).run(graph)
        node = next(iter(graph.nodes.values()))
        out = outcome.node_outputs[node.name]
        cache_dir = None
        if not node.axes and out.items and out.items[0].jobs:
            cache_dir = Path(graph.cache_root) / job_dir_name(node.kind, out.items[0].jobs[0])
        result = Result(
            outputs=type(defn).outputs_from(outcome.outputs),
            cache_dir=cache_dir,
            errored=outcome.errored,
            errors=tuple(outcome.errors),
            runtime=Runtime(
                wall=time.perf_counter() - started,
                cpu=outcome.runtime.cpu,
                peak_rss=outcome.runtime.peak_rss,
            ),
            skipped=tuple(outcome.skipped),
            cached=outcome.cached,
        )
        self.hooks.post_run(result)
        return result

    def close(self) -> None:
        """Close the worker if this Submitter created it."""
        if self._owns_worker:
            self.worker.close()

    def __enter__(self) -> Submitter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _run_definition(defn: TaskDef, worker: Any, kwargs: dict[str, Any]) -> Result:
    with Submitter(worker=worker, **kwargs) as sub:
        return sub(defn)


install_runner(_run_definition)
