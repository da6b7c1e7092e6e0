"""What plait-airflow keeps in the shared cache_root besides the jobs themselves.

XCom carries only small references; the data lives under ``cache_root``:

- job directories ``<kind>-<checksum>/`` are the core's (:mod:`plait.cache`);
- ``.plait-airflow/expansions/<node>-<digest>.pkl``: the jobs (and skipped
  elements) of a node expanded at run time, so the mapped task instances and
  the collect task see exactly the jobs the expand task computed;
- ``.plait-airflow/outputs/<node>-<digest>.pkl``: a finished node's
  :class:`plait.NodeOutput` (or a workflow's outputs), read by downstream nodes.

Files are content-addressed (the digest is the SHA-256 of their bytes) and
written atomically, so reruns and concurrent writers never see half a file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import threading
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

import attrs
import cloudpickle

from plait import ErrorInfo, Job, NodeOutput, Result, SkippedJob, load_result
from plait.cache import job_dir_name, load_cached, load_error
from plait.errors import failure_report
from plait.labels import render_label

#: the folder of cache_root where plait-airflow keeps its references
STORE_DIR = ".plait-airflow"

#: key of a reference to a value that does not fit in XCom as JSON
REF_KEY = "plait_ref"


def _save(cache_root: str, kind: str, stem: str, obj: Any) -> str:
    """Pickle ``obj`` under ``.plait-airflow/<kind>/``; return its name relative to cache_root."""
    data = cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    name = f"{stem}-{hashlib.sha256(data).hexdigest()[:32]}.pkl"
    rel = os.path.join(STORE_DIR, kind, name)
    path = os.path.join(cache_root, rel)
    if os.path.exists(path):
        return rel
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return rel


@functools.lru_cache(maxsize=64)
def _load(path: str) -> Any:
    # Content-addressed files never change: memoize per process (mapped task
    # instances run in one process under dag.test and some executors).
    with open(path, "rb") as f:
        return pickle.loads(f.read())


def save_expansion(
    cache_root: str, node: str, jobs: Sequence[Job], skipped: Sequence[SkippedJob]
) -> str:
    """Store a node's run-time expansion; return its reference."""
    return _save(cache_root, "expansions", node, (list(jobs), list(skipped)))


def load_expansion(cache_root: str, ref: str) -> tuple[list[Job], list[SkippedJob]]:
    """The jobs and skipped elements stored by :func:`save_expansion`."""
    jobs, skipped = _load(os.path.join(cache_root, ref))
    return jobs, skipped


def save_output(cache_root: str, node: str, output: Any) -> str:
    """Store a node's :class:`~plait.NodeOutput` (or any outputs); return its reference."""
    return _save(cache_root, "outputs", node, output)


def load_output(cache_root: str, ref: str) -> Any:
    """What :func:`save_output` stored."""
    return _load(os.path.join(cache_root, ref))


def job_result(job: Job) -> Result:
    """The job's result from the cache; a failed Result if it has none (it failed or never ran)."""
    result = load_cached(job.cache_dir, job.readonly_caches)
    if result is not None:
        return result
    errors = load_error(job.cache_dir)
    if errors:
        return attrs.evolve(
            Result.failure("failed", job.label, job.cache_dir), errors=tuple(errors)
        )
    return Result.failure("did not finish (no result in the cache)", job.label, job.cache_dir)


def to_xcom(value: Any, ref: dict[str, Any], path: tuple[int | str, ...] = ()) -> Any:
    """What XCom carries for ``value``: a reference, never the data (docs/design.md §6).

    Paths and files (fileformats objects), and lists or dicts of them, become
    path strings (files live in their job's cache directory: the path is the
    reference); anything else becomes ``{**ref, "index": [...]}``, a
    reference into the stored outputs that :func:`from_xcom` turns back into
    the value (``ref`` holds ``plait_ref``, ``cache_root`` and ``field``).
    """
    paths = _paths(value)
    if paths is not None:
        return paths
    return {**ref, "index": list(path)}


def _paths(value: Any) -> Any:
    """``value`` with its files as path strings, or None if it holds anything but files."""
    if isinstance(value, PurePath):
        return str(value)
    fspaths = getattr(value, "fspaths", None)
    if fspaths is not None and hasattr(value, "fspath"):
        paths = sorted(str(p) for p in fspaths)
        return paths[0] if len(paths) == 1 else paths
    if isinstance(value, (list, tuple)) and value:
        items = [_paths(v) for v in value]
        return None if any(i is None for i in items) else items
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
        got = {k: _paths(v) for k, v in value.items()}
        return None if any(v is None for v in got.values()) else got
    return None


def is_ref(value: Any) -> bool:
    """True if ``value`` is a reference made by :func:`to_xcom`."""
    return isinstance(value, dict) and REF_KEY in value and "field" in value


def from_xcom(value: Any, cache_root: str) -> Any:
    """Resolve the references :func:`to_xcom` left in ``value`` (recursively)."""
    if is_ref(value):
        stored = load_output(value.get("cache_root", cache_root), value[REF_KEY])
        out = (
            stored.values(value["field"])
            if isinstance(stored, NodeOutput)
            else stored[value["field"]]
        )
        for key in value.get("index", []):
            out = out[key]
        return out
    if isinstance(value, Mapping):
        return {k: from_xcom(v, cache_root) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        # lists, and Airflow's lazy XCom sequences (mapped upstream results)
        return [from_xcom(v, cache_root) for v in value]
    return value


def describe_failures(outputs: Sequence[NodeOutput], cache_root: str, kinds: dict[str, str]) -> str:
    """The core's failure report for the failed elements of ``outputs``.

    Errors come from the records in the failed jobs' cache directories; an
    element without a failed job of its own was skipped because of one.
    """
    errors: list[ErrorInfo] = []
    skipped: list[str] = []
    for out in outputs:
        for elem in out.items:
            if elem.ok:
                continue
            label = render_label(out.node, tuple(p for axis in elem.state for p in axis))
            before = len(errors)
            for checksum in elem.jobs:
                job_dir = os.path.join(cache_root, job_dir_name(kinds[out.node], checksum))
                recorded = load_error(job_dir)
                if recorded:
                    errors.extend(e if e.job else attrs.evolve(e, job=label) for e in recorded)
                elif load_result(job_dir) is None:
                    errors.extend(Result.failure("did not finish", label, job_dir).errors)
            if len(errors) == before:
                skipped.append(label)
    return failure_report(errors, skipped)
