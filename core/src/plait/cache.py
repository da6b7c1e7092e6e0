"""The job cache: one directory per job, verified results, locks.

``cache_root/<kind>-<checksum>/`` holds ``result.pkl`` (only for a job that
succeeded), ``error.json`` (for one that failed), the files the job wrote,
and ``.lock`` while it runs (:mod:`plait.locks`). A result is written to a
private temporary name and renamed into place, so a crash never leaves a
half-written result; it carries a header and a digest
(:mod:`plait.resultfile`), checked before it is served: a damaged or foreign
result is moved to ``cache_root/.quarantine/`` and the job runs again. Plain
data is stored in a format that runs no code when read; other values are
pickled and loaded only when authenticated (:mod:`plait.trust`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from .fsio import atomic_write
from .locks import LOCK_FILE, LOCK_LEASE, JobLock
from .result import ErrorInfo, Result, Runtime
from .resultfile import RejectedResult, decode, encode

__all__ = [
    "ERROR_FILE",
    "LOCK_FILE",
    "LOCK_LEASE",
    "RESULT_FILE",
    "JobLock",
    "clear_job_dir",
    "default_cache_root",
    "job_dir_name",
    "load_cached",
    "load_error",
    "load_result",
    "make_job_dir",
    "save_error",
    "save_result",
    "store_outputs",
    "stored",
]

logger = logging.getLogger(__name__)

#: the result file (the name is historical: its content is a plait result
#: file, see plait.resultfile, and a pickle only inside an authenticated payload)
RESULT_FILE = "result.pkl"
ERROR_FILE = "error.json"
QUARANTINE_DIR = ".quarantine"
#: mode of new job directories: no group or world write whatever the umask;
#: ``PLAIT_CACHE_GROUP_WRITABLE=1`` gives 0o775 (for a cache shared by a group)
DIR_MODE = 0o775 if os.environ.get("PLAIT_CACHE_GROUP_WRITABLE", "") not in ("", "0") else 0o755


def default_cache_root() -> Path:
    """``$PLAIT_CACHE_ROOT``, or the per-user cache directory's ``jobs`` folder."""
    env = os.environ.get("PLAIT_CACHE_ROOT")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("plait")) / "jobs"


def make_job_dir(cache_dir: str) -> bool:
    """Create a job directory (and its cache root) if missing, without group/world write.

    Returns True if this call created it.
    """
    try:
        os.mkdir(cache_dir, DIR_MODE)
    except FileExistsError:
        return False
    except FileNotFoundError:
        os.makedirs(os.path.dirname(cache_dir), mode=DIR_MODE, exist_ok=True)
        try:
            os.mkdir(cache_dir, DIR_MODE)
        except FileExistsError:
            return False
    return True


def load_result(
    cache_dir: str | os.PathLike[str], trusted_root: str | None = None
) -> Result | None:
    """The verified result of a finished job, or None if it has none that can be served.

    The file's digest, its job name and the files it refers to are checked,
    and a pickled result must authenticate with a key of ``trusted_root``
    (default: the job's cache root). A damaged or forged result in the job's
    own cache is logged and moved to the quarantine; one in a read-only cache
    (``trusted_root`` given) is only logged.
    """
    cache_dir = os.fspath(cache_dir)
    path = f"{cache_dir}/{RESULT_FILE}"
    try:
        data = _read(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        logger.warning("cannot read result %s: %s", path, exc)
        return None
    try:
        rec = decode(data, cache_dir, trusted_root)
    except RejectedResult as exc:
        _reject(path, exc, quarantine=trusted_root is None)
        return None
    return Result(rec.outputs, cache_dir, False, (), Runtime(rec.wall, rec.cpu, rec.peak_rss), True)


def _read(path: str) -> bytes:
    """The whole file (one read call for a small one: cheaper than ``open().read()``)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, _SMALL_READ)
        if len(data) < _SMALL_READ:
            return data
        with os.fdopen(fd, "rb", closefd=False) as f:  # one allocation of the file's size
            f.seek(0)
            return f.read()
    finally:
        os.close(fd)


_SMALL_READ = 1 << 16
_reported: set[str] = set()


def _reject(path: str, exc: RejectedResult, quarantine: bool) -> None:
    if not (exc.quarantine and quarantine):
        if path not in _reported:
            _reported.add(path)
            logger.warning("not using result %s: %s", path, exc)
        return
    job_dir = os.path.dirname(path)
    target = os.path.join(
        os.path.dirname(job_dir),
        QUARANTINE_DIR,
        f"{os.path.basename(job_dir)}.{time.time_ns()}.{os.getpid()}",
    )
    try:
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        os.rename(path, target)
    except FileNotFoundError:
        return  # another process moved it already: it reported it
    except OSError:
        logger.warning("ignoring invalid result %s: %s", path, exc)
        return
    logger.warning("invalid result %s: %s; moved to %s, the job will run again", path, exc, target)


def load_cached(cache_dir: str, readonly_caches: Sequence[str] = ()) -> Result | None:
    """A job's result from its own cache directory, else from the read-only caches.

    Pickled results in a read-only cache are loaded only if that cache is this
    user's own or trusted (:func:`plait.trust.trust_cache`).
    """
    result = load_result(cache_dir)
    if result is not None or not readonly_caches:
        return result
    name = os.path.basename(cache_dir)
    for root in readonly_caches:
        result = load_result(os.path.join(root, name), os.fspath(root))
        if result is not None:
            return result
    return None


def save_result(cache_dir: str, result: Result, lock: JobLock | None = None) -> None:
    """Write ``result`` atomically in its verified format.

    With the job's ``lock`` held, the result is appended to the lock's own
    file and published by a hard link through its descriptor (one file
    created per job); otherwise, or where that is not possible, it is written
    to a private temporary name and renamed. Raises (and publishes nothing)
    if it cannot be stored: outputs that cannot be serialised, a full disk, no
    permission.
    """
    rt = result.runtime
    parts = encode(result.outputs, rt.wall, rt.cpu, rt.peak_rss, cache_dir)
    target = f"{cache_dir}/{RESULT_FILE}"
    if lock is not None and lock.publish(parts, target):
        return
    atomic_write(target, parts, f"{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}")


def store_outputs(cache_dir: str, outputs: Any, runtime: Runtime | None = None) -> Result:
    """Store the outputs of a job that ran elsewhere as its cached result.

    For a workflow job whose nodes ran as separate host units (the driver,
    the Airflow DAG): once stored, a rerun of the workflow reads this one
    result. An existing result is kept.
    """
    result = Result(outputs=outputs, cache_dir=cache_dir, runtime=runtime or Runtime())
    if load_result(cache_dir) is None:
        make_job_dir(cache_dir)
        save_result(cache_dir, result)
    return result


def save_error(cache_dir: str, errors: Sequence[ErrorInfo]) -> None:
    """Record a failure (type, message, traceback) as ``error.json`` in the job dir.

    Best effort: a failure to write it (a full disk) is logged, not raised.
    """
    record = [attrs.asdict(e) for e in errors]
    try:
        data = json.dumps(record, indent=2).encode()
        atomic_write(os.path.join(cache_dir, ERROR_FILE), [data], f"{os.getpid()}")
    except OSError as exc:
        logger.warning("cannot write the error record of %s: %s", cache_dir, exc)


def load_error(cache_dir: str | os.PathLike[str]) -> list[ErrorInfo]:
    """The failure recorded in a job dir (empty if none)."""
    try:
        with open(os.path.join(cache_dir, ERROR_FILE)) as f:
            return [ErrorInfo(**e) for e in json.load(f)]
    except FileNotFoundError:
        return []


def clear_job_dir(cache_dir: str) -> None:
    """Remove what a previous, unfinished attempt left (all but the lock and claims on it)."""
    try:
        entries = os.listdir(cache_dir)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.startswith(LOCK_FILE):
            continue
        path = os.path.join(cache_dir, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def job_dir_name(kind: str, checksum: str) -> str:
    """``<kind>-<checksum>``: the name of a job's cache directory."""
    return f"{kind}-{checksum}"


def stored(cache_root: str | os.PathLike[str]) -> list[str]:
    """Names of the job directories under ``cache_root`` that hold a result."""
    root = Path(cache_root)
    if not root.exists():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{RESULT_FILE}"))
