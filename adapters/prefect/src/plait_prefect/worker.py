"""The ``prefect`` worker: every plait job one Prefect task run, named by its label.

The core's shared :class:`plait.Driver` walks the graph and hands this worker
each job whose inputs exist and whose result is not already in plait's cache;
the worker starts one Prefect task run per job on a Prefect task runner, named
after the job (``TenToThePower[p=3]``), with the task runs of its upstream
jobs recorded as its inputs so the Prefect UI draws the graph. Jobs the driver
serves from plait's cache create no task run. Example::

    from plait import Submitter

    with Submitter(worker="prefect", cache_root="/shared/cache") as sub:
        result = sub(Powers(ps=[1, 2, 3]))

Where the task runs go:

- **inside a running flow** (the Submitter is used in a ``@flow``): they are
  task runs of that flow run, on that flow's task runner, unless
  ``task_runner=`` is given (the worker then enters that runner and closes it
  in :meth:`PrefectWorker.close`);
- **outside any flow**: the worker opens one *host flow run* (named
  ``flow_name``, else after the workflow when the driver says which, else
  ``plait``) as it starts, and ends it when it is closed: Completed, or
  Failed naming the failed jobs. One flow run per worker, i.e. per
  ``Submitter`` block; a run whose jobs all come from plait's cache has a
  flow run without task runs.

The default runner outside a flow is a bounded ``ThreadPoolTaskRunner`` (never
Prefect's unbounded default). Process and Dask runners (``ProcessPoolTaskRunner``,
prefect-dask's ``DaskTaskRunner``) work too; their results come back through
plait's cache, which must be shared with the processes that run the jobs.
With ``DaskTaskRunner``, a job's declared ``cpus``/``memory`` become Dask
worker resources as in plait-dask, and a job that no worker can ever hold
fails at once, saying why.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import queue
import threading
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from plait.cache import load_cached
from plait.errors import failure_report
from plait.result import ErrorInfo, Result
from plait.workers import Worker

from .tasks import PlaitJobError, check_node_options, node_task

if TYPE_CHECKING:
    from prefect import Task
    from prefect.futures import PrefectFuture
    from prefect.task_runners import TaskRunner

    from plait import Graph, Job, Progress

__all__ = ["PrefectWorker", "default_task_runner"]

logger = logging.getLogger(__name__)

#: how long the worker waits for its host flow run to start (a cold server migrates its DB)
HOST_START_TIMEOUT = 300.0


def default_max_workers() -> int:
    """Threads of the default runner: ``min(32, cpu_count + 4)``, as ``concurrent.futures``."""
    return min(32, (os.cpu_count() or 1) + 4)


def default_task_runner(max_workers: int | None = None) -> TaskRunner[Any]:
    """A bounded ``ThreadPoolTaskRunner`` (Prefect's own default is unbounded)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=max_workers or default_max_workers())


# -- the host flow run (outside a user's flow) ---------------------------------


@attrs.define
class _Session:
    """What a worker and its host flow run share (looked up by key, never pickled)."""

    ready: threading.Event = attrs.Factory(threading.Event)
    done: threading.Event = attrs.Factory(threading.Event)
    context: contextvars.Context | None = None
    error: BaseException | None = None
    summary: str = ""
    failure: str = ""
    state: Any = None
    flow_run_id: uuid.UUID | None = None


#: live host sessions by key: the flow function must stay module-level and small
#: (process and Dask runners pickle the flow with every task)
_SESSIONS: dict[str, _Session] = {}


def plait_host_flow(session: str) -> Any:
    """The body of a host flow run: lend its run context to a worker until it closes."""
    from prefect.context import FlowRunContext
    from prefect.logging import get_run_logger
    from prefect.states import Failed

    entry = _SESSIONS[session]
    ctx = FlowRunContext.get()
    entry.flow_run_id = ctx.flow_run.id if ctx is not None and ctx.flow_run is not None else None
    entry.context = contextvars.copy_context()
    entry.ready.set()
    entry.done.wait()
    log = get_run_logger()
    if entry.summary:
        log.info(entry.summary)
    if entry.failure:
        return Failed(message=entry.failure)
    return None


def _run_host(flow: Any, key: str, entry: _Session) -> None:
    try:
        entry.state = flow(session=key, return_state=True)
    except BaseException as exc:  # the flow could not even start (no server ...)
        entry.error = exc
    finally:
        entry.ready.set()


# -- the worker -----------------------------------------------------------------


class PrefectWorker(Worker):
    """Run plait jobs as Prefect task runs (one per job) for the shared driver.

    ``task_runner``: any Prefect task runner object (``ThreadPoolTaskRunner``,
    ``ProcessPoolTaskRunner``, prefect-dask's ``DaskTaskRunner`` ...); None
    means the running flow's own runner inside a flow, and a bounded
    ``ThreadPoolTaskRunner(max_workers)`` outside. ``flow_name`` and
    ``flow_run_name`` name the host flow run opened outside a flow.
    ``node_options`` are per-node Prefect task options
    (``{"Node": {"retries": 2, "tags": ["gpu"]}}``; see
    :data:`plait_prefect.tasks.ALLOWED_NODE_OPTIONS`); ``tags`` go on every task.
    """

    name = "prefect"

    def __init__(
        self,
        task_runner: TaskRunner[Any] | None = None,
        *,
        flow_name: str | None = None,
        flow_run_name: str | None = None,
        node_options: Mapping[str, Mapping[str, Any]] | None = None,
        tags: tuple[str, ...] | list[str] = (),
        max_workers: int | None = None,
    ) -> None:
        from prefect.context import FlowRunContext
        from prefect.task_runners import TaskRunner

        if task_runner is not None and not isinstance(task_runner, TaskRunner):
            raise TypeError(
                f"PrefectWorker: task_runner must be a Prefect TaskRunner object, got {task_runner!r}"
            )
        if max_workers is not None and task_runner is not None:
            raise ValueError(
                "PrefectWorker: max_workers= sizes the default ThreadPoolTaskRunner and has no "
                "meaning with task_runner=; size your runner instead"
            )
        self.node_options = check_node_options(node_options)
        self.tags = tuple(tags)
        self.flow_name = flow_name
        self.flow_run_name = flow_run_name
        self._given_runner = task_runner
        self._max_workers = max_workers
        flow_ctx = FlowRunContext.get()
        #: True when the jobs join the flow run the worker was made in
        self.in_flow = flow_ctx is not None and flow_ctx.flow_run is not None
        #: the flow run the task runs belong to (the user's, or the host flow run once opened)
        self.flow_run_id: uuid.UUID | None = (
            flow_ctx.flow_run.id if self.in_flow and flow_ctx and flow_ctx.flow_run else None
        )
        self._runner: TaskRunner[Any] | None = None
        self._entered: TaskRunner[Any] | None = None
        self._context: contextvars.Context | None = None  # the host flow run's context
        self._session: tuple[str, _Session, threading.Thread] | None = None
        self._workflow: str | None = None
        self._by_cache = False
        self._fit: Any = None
        self._tasks: dict[str, Task[..., Any]] = {}
        self._ids: dict[str, uuid.UUID] = {}  # checksum -> task run id, for graph edges
        self._done: queue.SimpleQueue[tuple[Job, PrefectFuture[Any]]] = queue.SimpleQueue()
        self._rejected: list[tuple[Job, Result]] = []
        self._failed: list[ErrorInfo] = []
        self._skipped: list[str] = []
        self._submitted = 0
        self._cached = 0
        self._reported = False  # whether the driver reports progress events to the worker
        self._closed = False

    # -- optional driver notifications ------------------------------------------
    def start(self, graph: Graph) -> None:
        """The driver is about to run ``graph``: open the host flow run, named after it."""
        if self._workflow is None:
            self._workflow = graph.name
        if not self.in_flow and not self._closed:
            self._begin_host()

    def report(self, event: Progress) -> None:
        """A driver progress event: count the jobs served from plait's cache (no task run)."""
        self._reported = True
        if event.status == "cached":
            self._cached += 1
        elif event.status == "skipped":
            self._skipped.append(event.label)

    # -- Worker interface ----------------------------------------------------------
    def submit(self, job: Job) -> None:
        """Start one Prefect task run for ``job``, named by its label."""
        if self._closed:
            raise RuntimeError("PrefectWorker: submit() after close()")
        runner = self._ensure_runner()
        task = self._tasks.get(job.node)
        if task is None:
            task = self._tasks[job.node] = node_task(
                job.node, self.node_options.get(job.node), by_cache=self._by_cache, tags=self.tags
            )
        resources = self._dask_resources(job)
        if resources is not None and self._fit is not None:
            problem = self._fit(job.resources, job.label)
            if problem is not None:
                failure = Result.failure(problem, job.label, job.cache_dir)
                self._rejected.append((job, failure))
                self._failed.extend(failure.errors)
                return
        dependencies: dict[str, set[Any]] | None = None
        upstream = [self._ids[c] for c in job.upstream if c in self._ids]
        if upstream:
            from prefect.client.schemas.objects import TaskRunResult

            dependencies = {"job": {TaskRunResult(id=i) for i in upstream}}

        def send() -> PrefectFuture[Any]:
            if resources is None:
                return runner.submit(task, {"job": job}, dependencies=dependencies)
            import dask

            with dask.annotate(resources=resources):
                return runner.submit(task, {"job": job}, dependencies=dependencies)

        future = self._context.run(send) if self._context is not None else send()
        self._submitted += 1
        self._ids[job.checksum] = future.task_run_id
        done = self._done
        future.add_done_callback(lambda f: done.put((job, f)))

    def wait(self) -> list[tuple[Job, Result]]:
        """Block until at least one task run has finished; return every finished job."""
        if self._rejected:
            out, self._rejected = self._rejected, []
            return out
        items = [self._done.get()]
        while True:
            try:
                items.append(self._done.get_nowait())
            except queue.Empty:
                break
        out = []
        for job, future in items:
            result = self._result(job, future)
            self._failed.extend(attrs.evolve(e, job=e.job or job.label) for e in result.errors)
            out.append((job, result))
        return out

    def close(self) -> None:
        """Close the runner the worker entered; end the host flow run (Completed or Failed)."""
        if self._closed:
            return
        self._closed = True
        if self._entered is not None:
            runner, self._entered = self._entered, None
            try:
                runner.__exit__(None, None, None)
            except Exception:  # closing must not mask the run's own outcome
                logger.warning("closing task runner %r failed", runner, exc_info=True)
        summary = self.summary()
        if self._session is not None:
            key, entry, thread = self._session
            entry.summary = summary
            if self._failed:
                entry.failure = self._failure_message()
            entry.done.set()
            thread.join(timeout=HOST_START_TIMEOUT)
            _SESSIONS.pop(key, None)
            self.flow_run_id = entry.flow_run_id
            if entry.error is not None:
                logger.warning("PrefectWorker: the host flow run failed: %r", entry.error)
        elif self.in_flow and (self._submitted or self._cached):
            from prefect.logging import get_run_logger

            with contextlib.suppress(Exception):
                get_run_logger().info(summary)

    @property
    def host_flow_state(self) -> Any:
        """The final Prefect state of the host flow run (None if none was opened)."""
        return None if self._session is None else self._session[1].state

    def summary(self) -> str:
        """``plait: 5 job(s) ran as task runs, 3 served from plait's cache (no task run), ...``."""
        text = f"plait: {self._submitted} job(s) ran as Prefect task runs"
        if self._reported:
            text += f", {self._cached} served from plait's cache (no task run)"
        if self._failed:
            text += f", {len(self._failed)} failed"
        if self._skipped:
            text += f", {len(self._skipped)} skipped because of them"
        return text

    # -- internals -------------------------------------------------------------------
    def _failure_message(self) -> str:
        return failure_report(self._failed, self._skipped)

    def _ensure_runner(self) -> TaskRunner[Any]:
        if self._runner is not None:
            return self._runner
        if self.in_flow:
            from prefect.context import FlowRunContext

            if self._given_runner is not None:
                runner = self._enter(self._given_runner)
            else:
                ctx = FlowRunContext.get()
                if ctx is None or ctx.task_runner is None:
                    raise RuntimeError(
                        "PrefectWorker: made inside a flow run, but used outside it; make the "
                        "Submitter inside the flow that runs it"
                    )
                runner = ctx.task_runner
        else:
            runner = self._enter(self._given_runner or default_task_runner(self._max_workers))
            self._start_host()
        self._setup(runner)
        self._runner = runner
        return runner

    def _enter(self, runner: TaskRunner[Any]) -> TaskRunner[Any]:
        runner.__enter__()
        self._entered = runner
        return runner

    def _setup(self, runner: TaskRunner[Any]) -> None:
        """Decide how results travel back, and how resources are checked, for ``runner``."""
        from prefect.task_runners import ThreadPoolTaskRunner

        self._by_cache = not isinstance(runner, ThreadPoolTaskRunner)
        if self._by_cache:
            from prefect.settings import PREFECT_API_URL

            if not PREFECT_API_URL.value():
                logger.warning(
                    "PrefectWorker: %s runs tasks in other processes but PREFECT_API_URL is not "
                    "set: each of them would start its own ephemeral Prefect server; point "
                    "PREFECT_API_URL at a running server (prefect server start)",
                    type(runner).__name__,
                )
        if _is_dask_runner(runner):
            self._fit = _dask_fit_check(runner.client)  # type: ignore[attr-defined]

    def _dask_resources(self, job: Job) -> dict[str, float] | None:
        if not job.resources or self._runner is None or not _is_dask_runner(self._runner):
            return None
        try:
            from plait_dask import job_resources
        except ImportError:
            res = job.resources.as_dict()
            return res or None
        return job_resources(job)

    def _begin_host(self) -> None:
        """Start opening the host flow run in its thread, without waiting for it."""
        if self._session is not None:
            return
        from prefect import Flow

        name = self.flow_name or self._workflow or "plait"
        flow: Any = Flow(
            plait_host_flow,
            name=name,
            flow_run_name=self.flow_run_name,
            persist_result=False,
            validate_parameters=False,
        )
        key = uuid.uuid4().hex
        entry = _Session()
        _SESSIONS[key] = entry
        # the thread inherits this thread's context (Prefect settings, test harness)
        inherited = contextvars.copy_context()
        thread = threading.Thread(
            target=inherited.run,
            args=(_run_host, flow, key, entry),
            name=f"plait-prefect-host-{key[:8]}",
            daemon=True,
        )
        thread.start()
        self._session = (key, entry, thread)

    def _start_host(self) -> None:
        """The host flow run, open: its run context is where task runs are submitted."""
        self._begin_host()
        assert self._session is not None
        key, entry, _ = self._session
        entry.ready.wait(HOST_START_TIMEOUT)
        if entry.context is None:
            _SESSIONS.pop(key, None)
            self._session = None
            raise RuntimeError(
                "PrefectWorker: the host flow run did not start"
                + (f": {entry.error!r}" if entry.error is not None else "")
            ) from entry.error
        self.flow_run_id = entry.flow_run_id
        self._context = entry.context

    def _result(self, job: Job, future: PrefectFuture[Any]) -> Result:
        """The plait Result of a finished task run."""
        future.wait()
        state = future.state
        if state.is_completed():
            if self._by_cache:
                result = load_cached(job.cache_dir, job.readonly_caches)
                if result is None:
                    return Result.failure(
                        f"the task run completed but its result is not in plait's cache at "
                        f"{job.cache_dir}: the task runner's processes must share cache_root",
                        job.label,
                        job.cache_dir,
                    )
                return attrs.evolve(result, cached=False)
            value = future.result(raise_on_failure=False)
            if isinstance(value, Result):
                return value
            return Result.failure(f"unexpected task result {value!r}", job.label, job.cache_dir)
        try:
            exc = future.result(raise_on_failure=False)
        except BaseException as e:  # a crashed or cancelled run may raise here
            exc = e
        if isinstance(exc, PlaitJobError) and exc.result is not None:
            return exc.result
        if isinstance(exc, BaseException):
            return Result.failure(exc, job.label, job.cache_dir)
        message = f"Prefect task run {state.name}: {state.message or 'no message'}"
        return Result.failure(message, job.label, job.cache_dir)


def _dask_fit_check(client: Any) -> Any:
    """plait-dask's check that some Dask worker can hold a job's resources, or None.

    The check and its message ("... could never run. Start workers with
    --resources ...") are plait-dask's own (:func:`plait_dask.fit_reason`),
    asked once per resource set; without plait-dask installed, impossible
    jobs are not detected.
    """
    try:
        from plait_dask import fit_reason
    except ImportError:
        logger.warning(
            "plait-dask is not installed: jobs that need more resources than any Dask worker "
            "offers will wait forever (pip install 'plait-prefect[dask]')"
        )
        return None
    cluster = getattr(client, "cluster", None)
    reasons: dict[tuple[tuple[str, float], ...], str | None] = {}

    def check(resources: Any, label: str) -> str | None:
        need = resources.as_dict()
        key = tuple(sorted(need.items()))
        if key not in reasons:  # the message names the job: ask once, with a placeholder
            reasons[key] = fit_reason(client, "\x00", need, cluster)
        reason = reasons[key]
        return None if reason is None else reason.replace("\x00", label, 1)

    return check


def _is_dask_runner(runner: Any) -> bool:
    return type(runner).__module__.startswith("prefect_dask")
