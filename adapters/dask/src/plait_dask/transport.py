"""How a plait job travels to a Dask worker, and its upstream outputs with it.

A job's inputs that are outputs of upstream jobs are not pickled into the
job: they are replaced by references (upstream position, output name,
element) into the upstream results, which the job's Dask task receives as
Dask futures. So Dask moves upstream data **worker to worker** (placing the
job near it and recomputing lost results from the cache), and the task the
scheduler holds stays small. Example, on the client::

    transport = JobTransport(client)
    payload, digest = transport.encode(job, [upstream_result.outputs])
    future = client.submit(run_encoded, payload, job.label, digest, [upstream_future])

The definition class is pickled once per run and installed in every Dask
worker, present and future, by a worker plugin (``plait-class-<digest>``),
instead of travelling inside every job.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cloudpickle
from dask.sizeof import sizeof
from distributed.diagnostics.plugin import WorkerPlugin

from plait.result import ErrorInfo, Result
from plait.run import run_job

if TYPE_CHECKING:
    from distributed import Client

    from plait import Job

__all__ = ["JobTransport", "run_encoded"]

#: output values below this size (and numbers, None) travel inside the job
_SMALL = 1024


@sizeof.register(Result)
def _sizeof_result(result: Result) -> int:
    """A job result's size for Dask (memory accounting, placing jobs near their data)."""
    return 200 + int(sizeof(result.outputs))


class JobTransport:
    """Encodes jobs for Dask tasks on ``client``'s cluster (see the module docstring)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._digests: dict[type, str] = {}

    def encode(
        self, job: Job, upstream_outputs: Sequence[dict[str, Any] | None]
    ) -> tuple[bytes, str]:
        """``(payload, class digest)`` of ``job`` for :func:`run_encoded`.

        ``upstream_outputs`` are the outputs of the upstream jobs whose
        futures the task will receive, in that order.
        """
        cls = type(job.definition)
        digest = self._digests.get(cls)
        if digest is None:
            blob = cloudpickle.dumps(cls, protocol=pickle.HIGHEST_PROTOCOL)
            digest = hashlib.blake2b(blob, digest_size=8).hexdigest()
            self._client.register_plugin(_InstallClass(digest, blob))
            self._digests[cls] = digest
        buf = io.BytesIO()
        _JobPickler(buf, cls, digest, _references(upstream_outputs)).dump(job)
        return buf.getvalue(), digest


def run_encoded(payload: bytes, label: str, digest: str, upstream: Any = ()) -> Result:
    """The Dask task of one job: decode it and run it through the cache.

    ``upstream`` are the results of the jobs it reads, passed as futures;
    the job's inputs that are upstream outputs are read from them. A job
    that cannot even be decoded is a failed job, not a lost task.
    """
    try:
        cls = _CLASSES.get(digest)
        if cls is None:
            raise RuntimeError(
                f"task class {digest} was not installed on this Dask worker (plugin missing)"
            )
        job = _JobUnpickler(io.BytesIO(payload), cls, list(upstream)).load()
        return run_job(job)
    except Exception as exc:
        return Result(outputs=None, errored=True, errors=(ErrorInfo.from_exception(exc, label),))


# -- upstream references ------------------------------------------------------
def _by_reference(value: Any) -> bool:
    """Whether an upstream output value is worth fetching from its Dask future."""
    if value is None or isinstance(value, (bool, int, float, complex)):
        return False
    if isinstance(value, (str, bytes, bytearray)):
        return len(value) >= _SMALL
    return True


def _references(outputs: Sequence[dict[str, Any] | None]) -> dict[int, tuple[Any, ...]]:
    """``id(value) -> (upstream position, output name[, element])`` for upstream outputs.

    Elements of list and tuple outputs are indexed too, for jobs that split
    over an upstream output.
    """
    refs: dict[int, tuple[Any, ...]] = {}
    for i, out in enumerate(outputs):
        for name, value in (out or {}).items():
            if not _by_reference(value):
                continue
            refs[id(value)] = (i, name)
            if isinstance(value, (list, tuple)):
                for k, item in enumerate(value):
                    if _by_reference(item):
                        refs.setdefault(id(item), (i, name, k))
    return refs


class _JobPickler(cloudpickle.Pickler):
    """Pickles a job with its definition class and upstream output values left out."""

    def __init__(
        self, file: io.BytesIO, cls: type, digest: str, refs: dict[int, tuple[Any, ...]]
    ) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._cls = cls
        self._digest = digest
        self._refs = refs

    def persistent_id(self, obj: Any) -> Any:
        if obj is self._cls:
            return self._digest
        if self._refs:
            return self._refs.get(id(obj))
        return None


class _JobUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, cls: type, upstream: list[Result]) -> None:
        super().__init__(file)
        self._cls = cls
        self._upstream = upstream

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, str):
            return self._cls
        index, name, *element = pid
        value = self._upstream[index].outputs[name]
        return value[element[0]] if element else value


# -- definition classes, once per worker --------------------------------------
#: definition classes already unpickled in this (Dask worker) process, by digest
_CLASSES: dict[str, type] = {}


class _InstallClass(WorkerPlugin):
    """A worker plugin that unpickles one task class in every worker, present and future.

    Shipping the class this way (instead of as a Dask key every job depends
    on) keeps jobs without upstream free of dependencies, so Dask schedules
    them like ``client.map`` tasks.
    """

    def __init__(self, digest: str, blob: bytes) -> None:
        self.name = f"plait-class-{digest}"
        self.digest = digest
        self.blob = blob

    def setup(self, worker: Any) -> None:
        """Unpickle the class into this worker process's registry."""
        if self.digest not in _CLASSES:
            _CLASSES[self.digest] = cloudpickle.loads(self.blob)
