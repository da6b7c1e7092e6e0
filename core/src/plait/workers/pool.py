"""A local pool of job processes that fails only what it must.

Each process has its own pipe. The driver sends an idle process a batch of
jobs and the process answers each job with its result as soon as it is done,
so the driver always knows which job each process is running. Hence:

- a process that dies (a segfault, the OOM killer, ``SIGKILL``) fails only the
  job it was running; the results it sent stand, the rest of its batches go
  back to the queue, and a new process takes its place;
- a job that exceeds its timeout is stopped by killing its process: that job
  fails with ``TimeoutError``, the others are unaffected;
- ``SystemExit`` and ``KeyboardInterrupt`` raised by a task are that job's
  failure; pool processes ignore ``SIGINT`` (Ctrl-C stops the driver, which
  stops the pool);
- pool processes exit within a fraction of a second when the driver dies, even
  ``SIGKILL`` ed (each watches its parent pid), so none lives on running queued
  jobs or holding the driver's stdout open.

Why not ``concurrent.futures`` or loky: when one of their processes dies, both
fail every pending future (``BrokenProcessPool``, loky's
``TerminatedWorkerError``: 8 of 10 in a test with 2 processes), and neither
can stop one running task.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

import cloudpickle

logger = logging.getLogger(__name__)

__all__ = ["ProcessPool"]

#: how often a pool process checks that its driver is still alive (seconds)
PARENT_POLL = 0.25
#: a pool process sends the results of a long batch at least this often (seconds)
FLUSH = 0.05


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL)
        if os.getppid() != parent:
            os._exit(70)


def _process_main(conn: Connection, parent: int, run: Callable[[Any], Any], state: Any) -> None:
    """A pool process: run the jobs of each batch received and send their results back.

    ``state`` (shared memory) holds the number of the job running now (counted
    from this process's first job; -1 when idle) and when it started, so the
    driver knows which job to fail or stop without a message per job. Results
    go back when a batch is done, or every ``FLUSH`` seconds during a long one.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    started = 0
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            os._exit(0)
        if not payload:  # the driver's stop message
            os._exit(0)
        pending: list[Any] = []
        last = time.monotonic()
        for job in pickle.loads(payload):
            state[1] = time.monotonic()
            state[0] = started
            started += 1
            try:
                result = run(job)
            except BaseException as exc:  # SystemExit, KeyboardInterrupt: this job's failure
                result = _failure(job, exc)
            state[0] = -1
            pending.append((job, result))
            now = time.monotonic()
            if now - last >= FLUSH:
                _send(conn, pending)
                pending, last = [], now
        if pending:
            _send(conn, pending)


def _send(conn: Connection, done: list[tuple[Any, Any]]) -> None:
    results = [r for _, r in done]
    try:
        data = cloudpickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a result cannot travel: send that one as a failure
        fixed = []
        for job, r in done:
            try:
                cloudpickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)
                fixed.append(r)
            except Exception as exc:
                fixed.append(_failure(job, exc))
        data = cloudpickle.dumps(fixed, protocol=pickle.HIGHEST_PROTOCOL)
    conn.send_bytes(data)


def _failure(job: Any, exc: BaseException | str) -> Any:
    from ..result import Result

    return Result.failure(exc, job.label, job.cache_dir)


def _lost(job: Any, exc: BaseException | str) -> Any:
    """The failure of a job whose process died or was stopped: its lock is removed now."""
    from ..locks import remove_if_abandoned

    try:
        remove_if_abandoned(job.cache_dir)
    except OSError:
        pass  # taken over by the next run instead
    return _failure(job, exc)


class _Proc:
    """One pool process and the jobs sent to it, in the order it runs them."""

    def __init__(self, ctx: Any, run: Callable[[Any], Any]) -> None:
        self.conn, child = ctx.Pipe()
        self.state = ctx.RawArray("d", [-1.0, 0.0])
        self.process = ctx.Process(
            target=_process_main, args=(child, os.getpid(), run, self.state), daemon=True
        )
        self.process.start()
        child.close()
        self.jobs: deque[Any] = deque()  # sent, no result yet
        self.first = 0  # the number of jobs[0] in this process's count

    def send(self, jobs: list[Any]) -> None:
        self.conn.send_bytes(cloudpickle.dumps(jobs, protocol=pickle.HIGHEST_PROTOCOL))
        self.jobs.extend(jobs)

    def running(self) -> tuple[int, float] | None:
        """(position in ``jobs``, start time) of the job running now, or None."""
        number, started = int(self.state[0]), self.state[1]
        pos = number - self.first
        if number < 0 or not 0 <= pos < len(self.jobs):
            return None
        return pos, started

    def stop(self, kill: bool = False) -> None:
        with contextlib.suppress(OSError):
            if not kill:
                self.conn.send_bytes(b"")  # stop after the current job
            self.conn.close()
        if kill and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.process.kill()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


class ProcessPool:
    """``n_procs`` processes that run jobs with ``run`` (see the module docstring).

    ``submit`` queues jobs; ``collect`` blocks until at least one has finished
    and returns ``(job, result)`` pairs. ``timeout_of(job)`` gives a job's time
    limit in seconds (None: none). ``batch_size(n_queued)`` sizes batches.
    """

    def __init__(
        self,
        n_procs: int,
        run: Callable[[Any], Any],
        mp_context: str | None = None,
        timeout_of: Callable[[Any], float | None] = lambda job: None,
        batch_size: Callable[[int], int] = lambda n: 1,
    ) -> None:
        self.n_procs = n_procs
        self._ctx = multiprocessing.get_context(mp_context)
        self._run = run
        self._timeout_of = timeout_of
        self._batch_size = batch_size
        self._procs: list[_Proc] = []
        self._queue: deque[Any] = deque()
        self._outstanding = 0

    def submit(self, jobs: list[Any]) -> None:
        """Queue ``jobs``; they are sent to processes on the next :meth:`collect`."""
        self._queue.extend(jobs)
        self._outstanding += len(jobs)

    @property
    def outstanding(self) -> int:
        """Jobs submitted whose results have not been collected."""
        return self._outstanding

    def _dispatch(self) -> None:
        while len(self._procs) < self.n_procs and len(self._procs) < self._outstanding:
            self._procs.append(_Proc(self._ctx, self._run))
        if not self._queue:
            return
        size = max(1, self._batch_size(len(self._queue)))
        # one batch per process at a time: a batch queued behind a slow job would wait for it
        for proc in self._procs:
            if not self._queue:
                return
            if not proc.jobs and proc.process.is_alive():
                batch = [self._queue.popleft() for _ in range(min(size, len(self._queue)))]
                try:
                    proc.send(batch)
                except OSError:  # it died: the batch goes back, the death is seen later
                    self._queue.extendleft(reversed(batch))

    def collect(self) -> list[tuple[Any, Any]]:
        """Send queued jobs, then block until at least one job has finished."""
        finished: list[tuple[Any, Any]] = []
        while not finished:
            if not self._outstanding:
                return finished
            self._dispatch()
            busy = [p for p in self._procs if p.jobs]
            waits: dict[Any, _Proc] = {}
            for p in busy:
                waits[p.conn] = p
                waits[p.process.sentinel] = p
            ready = wait(list(waits), timeout=self._next_check(busy))
            for obj in ready:
                proc = waits[obj]
                if proc not in self._procs:
                    continue
                finished.extend(self._receive(proc))
                if obj is not proc.conn:
                    finished.extend(self._lose(proc, None))
            finished.extend(self._expire(busy))
        self._outstanding -= len(finished)
        return finished

    def _receive(self, proc: _Proc) -> list[tuple[Any, Any]]:
        out = []
        try:
            while proc.jobs and proc.conn.poll():
                for result in pickle.loads(proc.conn.recv_bytes()):
                    out.append((proc.jobs.popleft(), result))
                    proc.first += 1
        except (EOFError, OSError):
            pass  # it died: its sentinel says so
        return out

    def _lose(self, proc: _Proc, timeout: float | None) -> list[tuple[Any, Any]]:
        """A process died (or is stopped for a timeout): fail its running job, requeue the rest.

        Jobs it finished without sending their results are requeued too: their
        results are in the cache, so they are not run again.
        """
        running = proc.running()
        self._procs.remove(proc)
        proc.stop(kill=timeout is not None)
        out = []
        if running is not None:
            pos = running[0]
            job = proc.jobs[pos]
            del proc.jobs[pos]
            if timeout is not None:
                message = f"{job.label}: timed out after {timeout:g} s (its process was stopped)"
                error: BaseException | str = TimeoutError(message)
            else:
                code = proc.process.exitcode
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                message = error = (
                    f"{job.label}: the pool process running it died ({how}); "
                    "the other jobs were not affected"
                )
            logger.warning("%s", message)
            out.append((job, _lost(job, error)))
        self._queue.extendleft(reversed(proc.jobs))
        return out

    def _next_check(self, busy: list[_Proc]) -> float | None:
        """Seconds until a running job may exceed its time limit (None: no limits)."""
        soonest = None
        for p in busy:
            if not any(self._timeout_of(j) is not None for j in p.jobs):
                continue
            check = 0.1  # a job may start any moment: look again soon
            running = p.running()
            if running is not None:
                limit = self._timeout_of(p.jobs[running[0]])
                if limit is not None:
                    check = min(check, running[1] + limit - time.monotonic())
            soonest = check if soonest is None else min(soonest, check)
        return None if soonest is None else max(0.0, soonest)

    def _expire(self, busy: list[_Proc]) -> list[tuple[Any, Any]]:
        out = []
        for p in busy:
            if p not in self._procs:
                continue
            running = p.running()
            if running is None:
                continue
            limit = self._timeout_of(p.jobs[running[0]])
            if limit is None or time.monotonic() - running[1] < limit:
                continue
            out.extend(self._receive(p))
            again = p.running()
            if again is None or again[1] != running[1]:
                continue  # it finished meanwhile
            out.extend(self._lose(p, limit))
        return out

    def close(self) -> None:
        """Stop every process (running jobs are abandoned; their locks are taken over later)."""
        procs, self._procs = self._procs, []
        for p in procs:
            if not p.jobs:
                with contextlib.suppress(OSError):
                    p.conn.send_bytes(b"")
        for p in procs:
            p.stop(kill=bool(p.jobs))
        self._queue.clear()
        self._outstanding = 0
