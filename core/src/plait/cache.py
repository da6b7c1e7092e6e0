"""The job cache: one directory per job, results written atomically, and locks.

``cache_root/<kind>-<checksum>/`` holds ``result.pkl`` (only for a job that
succeeded), ``error.json`` (for one that failed), the files the job wrote,
and ``.lock`` while it runs. A result is written to a temporary name and
renamed into place, so a crash never leaves a half-written result that is
taken for a good one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import shutil
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from .result import ErrorInfo, Result, Runtime

logger = logging.getLogger(__name__)

RESULT_FILE = "result.pkl"
ERROR_FILE = "error.json"
LOCK_FILE = ".lock"

#: seconds after which a lock whose owner cannot be checked (another host,
#: an empty or foreign file) is taken as abandoned unless its owner renews it
LOCK_LEASE = 60.0
_HOST = socket.gethostname()
_HOST_JSON = json.dumps(_HOST).encode()


def default_cache_root() -> Path:
    """``$PLAIT_CACHE_ROOT``, or the per-user cache directory's ``jobs`` folder."""
    env = os.environ.get("PLAIT_CACHE_ROOT")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("plait")) / "jobs"


def load_result(cache_dir: str | os.PathLike[str]) -> Result | None:
    """The stored result of a finished job, or None if it has none (or it is unreadable)."""
    path = f"{os.fspath(cache_dir)}/{RESULT_FILE}"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        version, outputs, wall, cpu, peak_rss = pickle.loads(data[data.index(b"\n") + 1 :])
    except Exception:
        logger.warning("ignoring unreadable result %s", path)
        return None
    if version != _FORMAT:
        return None
    return Result(outputs, os.fspath(cache_dir), False, (), Runtime(wall, cpu, peak_rss), True)


def load_cached(cache_dir: str, readonly_caches: Sequence[str] = ()) -> Result | None:
    """A job's result from its own cache directory, else from the read-only caches."""
    result = load_result(cache_dir)
    if result is not None or not readonly_caches:
        return result
    name = os.path.basename(cache_dir)
    for root in readonly_caches:
        result = load_result(os.path.join(root, name))
        if result is not None:
            return result
    return None


_FORMAT = 1


def dump_result(result: Result) -> bytes:
    """Serialise a successful result compactly: a tuple of the outputs and runtime.

    Plain pickle, or cloudpickle for values plain pickle cannot take (classes
    defined in ``__main__``, lambdas).
    """
    rt = result.runtime
    record = (_FORMAT, result.outputs, rt.wall, rt.cpu, rt.peak_rss)
    try:
        return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        import cloudpickle

        return cloudpickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def save_result(cache_dir: str, result: Result) -> None:
    """Write ``result`` atomically: to a temporary name, then renamed into place."""
    tmp = f"{cache_dir}/.{RESULT_FILE}.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "wb") as f:
        f.write(_owner_line() + dump_result(result))
    os.replace(tmp, f"{cache_dir}/{RESULT_FILE}")


def store_outputs(cache_dir: str, outputs: Any, runtime: Runtime | None = None) -> Result:
    """Store the outputs of a job that ran elsewhere as its cached result.

    For a workflow job whose nodes ran as separate host units (the driver,
    the Airflow DAG): once stored, a rerun of the workflow reads this one
    result. An existing result is kept.
    """
    result = Result(outputs=outputs, cache_dir=cache_dir, runtime=runtime or Runtime())
    if load_result(cache_dir) is None:
        os.makedirs(cache_dir, exist_ok=True)
        save_result(cache_dir, result)
    return result


def _owner_line() -> bytes:
    """``{"pid": ..., "host": ..., "time": ...}`` and a newline: who holds a lock."""
    return b'{"pid": %d, "host": %s, "time": %.3f}\n' % (os.getpid(), _HOST_JSON, time.time())


def save_error(cache_dir: str, errors: Sequence[ErrorInfo]) -> None:
    """Record a failure (type, message, traceback) as ``error.json`` in the job dir."""
    record = [attrs.asdict(e) for e in errors]
    tmp = os.path.join(cache_dir, f".{ERROR_FILE}.{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, os.path.join(cache_dir, ERROR_FILE))


def load_error(cache_dir: str | os.PathLike[str]) -> list[ErrorInfo]:
    """The failure recorded in a job dir (empty if none)."""
    try:
        with open(os.path.join(cache_dir, ERROR_FILE)) as f:
            return [ErrorInfo(**e) for e in json.load(f)]
    except FileNotFoundError:
        return []


def clear_job_dir(cache_dir: str) -> None:
    """Remove what a previous, unfinished attempt left (all but the lock)."""
    try:
        entries = os.listdir(cache_dir)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry == LOCK_FILE:
            continue
        path = os.path.join(cache_dir, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


class _Heartbeat:
    """Renews the leases of the locks this process holds, from one daemon thread."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, path: str) -> None:
        with self._guard:
            if self._pid != os.getpid():  # forked: the parent's thread is not here
                self._held.clear()
                self._thread = None
                self._pid = os.getpid()
            self._held.add(path)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="plait-lock-lease")
                self._thread.daemon = True
                self._thread.start()

    def discard(self, path: str) -> None:
        with self._guard:
            self._held.discard(path)

    def _run(self) -> None:
        while True:
            time.sleep(LOCK_LEASE / 4)
            with self._guard:
                held = list(self._held)
            for path in held:
                with contextlib.suppress(OSError):
                    os.utime(path)


_heartbeat = _Heartbeat()


def _owner_alive(path: str) -> bool:
    """Whether the lock at ``path`` still has a live owner (or a fresh lease)."""
    try:
        with open(path, "rb") as f:
            text = f.readline(4096).decode(errors="replace")
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        return False
    fresh = time.time() - mtime < LOCK_LEASE
    try:
        info = json.loads(text.split("\n", 1)[0])
        pid, host = int(info["pid"]), str(info["host"])
    except (ValueError, KeyError, TypeError):
        return fresh  # empty or foreign: trust only its lease
    if host != _HOST:
        return fresh
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobLock:
    """The lock of one job directory, which becomes its result when the job succeeds.

    ``acquire`` creates ``.lock`` exclusively (O_EXCL) with its owner's pid and
    host on the first line, waiting while another live process holds it. A
    lock whose owner is gone (a dead pid on this host, or a lease not renewed
    for ``LOCK_LEASE`` seconds on another host, or an empty or foreign file)
    is removed. ``commit(result)`` appends the result to the lock file and
    renames it to ``result.pkl``: the result appears whole or not at all, and
    the lock is released by the same rename. ``release`` drops the lock
    without a result. Correctness never depends on the lock: two runners only
    duplicate work.
    """

    def __init__(self, cache_dir: str, max_wait: float | None = None) -> None:
        self.cache_dir = cache_dir
        self.path = f"{cache_dir}/{LOCK_FILE}"
        self.max_wait = max_wait
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; return True if another process held it meanwhile."""
        delay = 0.001
        start = time.monotonic()
        waited = False
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                waited = True
                if not _owner_alive(self.path):
                    logger.info("removing abandoned lock %s", self.path)
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.path)
                    continue
                if self.max_wait is not None and time.monotonic() - start > self.max_wait:
                    raise TimeoutError(
                        f"job {self.cache_dir} is locked by another process"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            os.write(fd, _owner_line())
            self._fd = fd
            _heartbeat.add(self.path)
            return waited

    def commit(self, result: Result) -> None:
        """Store ``result`` as the job's result and release the lock (one rename)."""
        assert self._fd is not None, "commit() needs the lock"
        fd, self._fd = self._fd, None
        try:
            os.write(fd, dump_result(result))
        finally:
            os.close(fd)
            _heartbeat.discard(self.path)
        os.replace(self.path, f"{self.cache_dir}/{RESULT_FILE}")

    def release(self) -> None:
        """Drop the lock without storing a result (a failure, or nothing to do)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.close(fd)
        _heartbeat.discard(self.path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def job_dir_name(kind: str, checksum: str) -> str:
    """``<kind>-<checksum>``: the name of a job's cache directory."""
    return f"{kind}-{checksum}"


def stored(cache_root: str | os.PathLike[str]) -> list[str]:
    """Names of the job directories under ``cache_root`` that hold a result."""
    root = Path(cache_root)
    if not root.exists():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{RESULT_FILE}"))
