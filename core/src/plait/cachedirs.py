"""Inspect and prune a job cache: list job directories, show one, remove some safely.

Used by ``plait cache``. Each job directory (``<kind>-<checksum>``, see
:mod:`plait.cache`) is described by a :class:`JobEntry`. What a job was (its
node, label and inputs) is recorded in ``job.json`` by :class:`RunRecorder`,
the hooks ``plait run`` installs; ``last-run.json`` in the cache root lists the
jobs of the latest ``plait run``.

Removal is safe while other runs use the cache: a job whose lock is held by a
live process is left alone; any other is taken under its lock, renamed out of
the way in one step (a reader sees the whole directory or none) and deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .cache import ERROR_FILE, LOCK_FILE, RESULT_FILE, JobLock, load_error, load_result
from .hooks import TaskHooks

if TYPE_CHECKING:
    from .graph import Job
    from .result import Result

__all__ = [
    "JOB_FILE",
    "LAST_RUN_FILE",
    "JobEntry",
    "RunRecorder",
    "entries",
    "find",
    "parse_age",
    "remove",
]

#: what a job was: node, label, inputs (written by :class:`RunRecorder`)
JOB_FILE = "job.json"
#: the jobs of the latest ``plait run`` on this cache root
LAST_RUN_FILE = "last-run.json"
_DIR = re.compile(r"^(python|shell|workflow)-[0-9a-f]+$")


@attrs.frozen
class JobEntry:
    """One job directory: its name, state, runtime, size and what it was."""

    path: Path
    state: str
    runtime: float | None
    size: int
    mtime: float
    node: str
    label: str

    @property
    def name(self) -> str:
        """The directory name, ``<kind>-<checksum>``."""
        return self.path.name


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total


def _state(path: Path) -> str:
    if (path / RESULT_FILE).exists():
        return "done"
    if (path / LOCK_FILE).exists():
        return "running"
    if (path / ERROR_FILE).exists():
        return "failed"
    return "incomplete"


def _describe(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((path / JOB_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def entry(path: Path) -> JobEntry:
    """Describe the job directory ``path``."""
    state = _state(path)
    runtime = None
    if state == "done":
        result = load_result(path)
        runtime = result.runtime.wall if result is not None else None
    info = _describe(path)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        mtime = 0.0
    return JobEntry(
        path=path,
        state=state,
        runtime=runtime,
        size=_size(path),
        mtime=mtime,
        node=str(info.get("node", "?")),
        label=str(info.get("label", "?")),
    )


def entries(root: str | os.PathLike[str]) -> list[JobEntry]:
    """Every job directory under ``root``, oldest first."""
    base = Path(root)
    if not base.is_dir():
        return []
    found = [entry(p) for p in base.iterdir() if p.is_dir() and _DIR.match(p.name)]
    return sorted(found, key=lambda e: (e.mtime, e.name))


def find(root: str | os.PathLike[str], key: str) -> Path:
    """The job directory named by ``key``: its name, checksum or a unique prefix of either."""
    base = Path(root)
    matches = [
        p
        for p in (base.iterdir() if base.is_dir() else [])
        if _DIR.match(p.name)
        and (p.name.startswith(key) or p.name.partition("-")[2].startswith(key))
    ]
    if len(matches) != 1:
        what = "no job" if not matches else f"{len(matches)} jobs"
        raise LookupError(f"{what} in {base} match {key!r}; give more of the checksum")
    return matches[0]


def show(path: Path) -> dict[str, Any]:
    """A job's record: state, node, label, inputs, outputs, error and traceback."""
    info = _describe(path)
    out: dict[str, Any] = {
        "job": path.name,
        "path": str(path),
        "state": _state(path),
        "node": info.get("node", "?"),
        "label": info.get("label", "?"),
        "inputs": info.get("inputs", {}),
    }
    result = load_result(path)
    if result is not None:
        out["outputs"] = {k: repr(v) for k, v in dict(result.outputs or {}).items()}
        out["runtime"] = attrs.asdict(result.runtime)
    errors = load_error(path)
    if errors:
        out["error"] = f"{errors[0].type}: {errors[0].message}"
        out["traceback"] = errors[0].traceback
    return out


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float:
    """Seconds in an age such as ``90s``, ``30m``, ``12h``, ``7d`` or ``2w``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not m:
        raise ValueError(f"age {text!r}: expected a number and a unit s, m, h, d or w (e.g. 7d)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def remove(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Remove job directories safely; return (removed, skipped because in use)."""
    removed: list[Path] = []
    busy: list[Path] = []
    for path in paths:
        lock = JobLock(str(path), max_wait=0)
        try:
            lock.acquire()
        except TimeoutError:
            busy.append(path)
            continue
        except FileNotFoundError:  # removed meanwhile
            continue
        trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
        try:
            os.rename(path, trash)
        except OSError:
            lock.release()
            busy.append(path)
            continue
        lock.release()  # its file went with the directory: this closes it and ends its lease
        shutil.rmtree(trash, ignore_errors=True)
        removed.append(path)
    return removed, busy


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data, indent=2, default=repr))
        os.replace(tmp, path)
    except OSError:  # the directory went away: nothing to record
        with contextlib.suppress(OSError):
            tmp.unlink()


class RunRecorder:
    """Task hooks that record what each job was (``job.json``) and the run's jobs.

    ``hooks`` (a :class:`~plait.TaskHooks`) goes to the Submitter; after the run,
    :meth:`save` writes ``last-run.json`` to the cache root.
    """

    def __init__(self, cache_root: str | os.PathLike[str]) -> None:
        self.cache_root = Path(cache_root)
        self.jobs: list[dict[str, Any]] = []
        self._started: dict[Path, dict[str, Any]] = {}
        self.hooks = TaskHooks(pre_run_task=self._job_started, post_run_task=self._job_done)

    @staticmethod
    def _record(job: Job) -> dict[str, Any]:
        defn = job.definition
        return {
            "node": job.node,
            "label": job.label,
            "inputs": {n: repr(getattr(defn, n, None)) for n in type(defn)._inputs},
        }

    @staticmethod
    def _write_record(path: Path, record: dict[str, Any]) -> None:
        if path.is_dir() and not (path / JOB_FILE).exists():
            _write_json(path / JOB_FILE, record)

    def _job_started(self, job: Job) -> None:
        # a nested workflow's job gets no post_run_task: recorded when the run is saved
        self._started[Path(job.cache_dir)] = self._record(job)

    def _job_done(self, job: Job, result: Result) -> None:
        path = Path(job.cache_dir)
        self._started.pop(path, None)
        self._write_record(path, self._record(job))
        self.jobs.append(
            {
                "job": path.name,
                "label": job.label,
                "state": "failed" if result.errored else "done",
            }
        )

    def save(self) -> None:
        """Write ``last-run.json`` (the jobs of this run, with their state)."""
        for path, record in self._started.items():
            self._write_record(path, record)
        self.cache_root.mkdir(parents=True, exist_ok=True)
        _write_json(self.cache_root / LAST_RUN_FILE, {"time": time.time(), "jobs": self.jobs})


def last_run(root: str | os.PathLike[str]) -> dict[str, Any]:
    """The record of the latest ``plait run`` on ``root`` (empty if none)."""
    try:
        return dict(json.loads((Path(root) / LAST_RUN_FILE).read_text()))
    except (OSError, ValueError):
        return {}
