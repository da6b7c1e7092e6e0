"""How a plait job travels to a Dask worker, and its upstream outputs with it.

A job's inputs that are outputs of upstream jobs are not pickled into the
job: they are replaced by references (upstream position, output name,
element) into the upstream results, which the job's Dask task receives as
Dask futures. So Dask moves upstream data **worker to worker** (placing the
job near it and recomputing lost results from the cache), and the task the
scheduler holds stays small. Example, on the client::

    encoder = JobEncoder(client)
    payload, digest = encoder.encode(job, [upstream_result.outputs])
    future = client.submit(run_encoded, payload, job.label, digest, [upstream_future])

A job's definition class travels by reference when its module is importable
(a job is then a few hundred bytes). A class cloudpickle must ship by value
(a task defined in ``__main__`` or a notebook, about 10 KB) is pickled once
per run and installed in every Dask worker, present and future, by a worker
plugin (``plait-class-<digest>``), instead of travelling inside every job.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cloudpickle
from dask.sizeof import sizeof
from distributed.diagnostics.plugin import WorkerPlugin

from plait.result import Result
from plait.run import run_job

if TYPE_CHECKING:
    from distributed import Client

    from plait import Job

__all__ = ["JobEncoder", "run_encoded"]

#: output values below this size (and numbers, None) travel inside the job
_SMALL = 1024


@sizeof.register(Result)
def _sizeof_result(result: Result) -> int:
    """A job result's size for Dask (memory accounting, placing jobs near their data)."""
    return 200 + int(sizeof(result.outputs))


class JobEncoder:
    """Pickles jobs for :func:`run_encoded` on ``client``'s cluster (see the module docstring)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._digests: dict[type, str | None] = {}  # class -> digest if shipped by value

    def encode(
        self, job: Job, upstream_outputs: Sequence[dict[str, Any] | None] = ()
    ) -> tuple[bytes, str | None]:
        """``(payload, class digest or None)``, the job's upstream output values left out.

        ``upstream_outputs`` are the outputs of the upstream jobs whose
        futures the task will receive, in that order.
        """
        cls = type(job.definition)
        if cls not in self._digests:
            self._digests[cls] = self._install(cls) if _by_value(cls) else None
        digest = self._digests[cls]
        refs = _references(upstream_outputs)
        if digest is None and not refs:
            return cloudpickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL), None
        buf = io.BytesIO()
        _JobPickler(buf, refs, cls if digest else None, digest).dump(job)
        return buf.getvalue(), digest

    def _install(self, cls: type) -> str:
        blob = cloudpickle.dumps(cls, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.blake2b(blob, digest_size=8).hexdigest()
        self._client.register_plugin(_InstallClass(digest, blob))
        return digest


def run_encoded(payload: bytes, label: str, digest: str | None, upstream: Any = ()) -> Result:
    """The Dask task of one job: decode it and run it through the cache.

    ``digest`` names its definition class if a worker plugin installed it;
    ``upstream`` are the results of the jobs it reads, passed as futures (the
    job's inputs that are upstream outputs are read from them). A job that
    cannot even start (not decodable, cache not writable) is a failed job,
    not a lost task.
    """
    try:
        cls = None if digest is None else _CLASSES[digest]
        return run_job(_JobUnpickler(io.BytesIO(payload), list(upstream), cls).load())
    except Exception as exc:
        return Result.failure(exc, label)


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
    """Pickles a job with references in place of its upstream outputs and shipped class."""

    def __init__(
        self,
        file: io.BytesIO,
        refs: dict[int, tuple[Any, ...]],
        cls: type | None,
        digest: str | None,
    ) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._refs = refs
        self._cls = cls
        self._digest = digest

    def persistent_id(self, obj: Any) -> Any:
        if obj is self._cls:
            return self._digest
        return self._refs.get(id(obj)) if self._refs else None


class _JobUnpickler(pickle.Unpickler):
    """Unpickles a job, reading its upstream outputs from the upstream results."""

    def __init__(self, file: io.BytesIO, upstream: list[Result], cls: type | None) -> None:
        super().__init__(file)
        self._upstream = upstream
        self._cls = cls

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, str):
            return self._cls
        index, name, *element = pid
        value = self._upstream[index].outputs[name]
        return value[element[0]] if element else value


# -- definition classes shipped by value, once per worker --------------------
#: definition classes installed in this (Dask worker) process, by digest
_CLASSES: dict[str, type] = {}


def _by_value(cls: type) -> bool:
    """Whether cloudpickle would ship ``cls`` by value (not importable by its name)."""
    if cls.__module__ == "__main__":
        return True
    found: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is not cls


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
