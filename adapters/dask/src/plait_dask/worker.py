"""The ``dask`` worker: plait jobs as Dask tasks, on any ``distributed`` cluster.

The core's shared :class:`plait.Driver` walks the graph; this worker turns
each job it is handed into one Dask task keyed after the job's node and state
(``TenToThePower-1a2b3c4d[p=3]``: the dashboard groups the node's jobs under
``TenToThePower`` and each key reads ``[p=3]``) that calls
:func:`plait.run_job` on a Dask worker. Example::

    from distributed import LocalCluster
    from plait import Submitter

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster:
        with Submitter(worker="dask", cluster=cluster, cache_root="/tmp/cache") as sub:
            result = sub(TenToThePower().split(p=[1, 2, 3]))
    result.outputs.out                      # [10, 100, 1000]

Where the jobs run is chosen the way Dask users expect: ``client=`` (a
``distributed.Client``), ``address=`` (of a running scheduler), ``cluster=``
(any cluster object: ``LocalCluster``, dask-jobqueue's ``SLURMCluster``,
``PBSCluster``, ``SGECluster`` ...) or none of them, which starts a temporary
``LocalCluster`` that is closed with the worker. Without a cluster at all,
``scheduler="synchronous" | "threads" | "processes"`` runs the jobs with one of
Dask's local schedulers.

Upstream results reach a job as Dask futures, so Dask moves them worker to
worker; the job's inputs that are upstream outputs are read from them on the
worker instead of travelling inside the job.

Resources declared on a task (``cpus``, ``memory``) become Dask worker
resources (``resources={"cpus": 2, "memory": 4e9}``); workers must advertise
them (``dask worker --resources "cpus=2,memory=4e9"``). A job that no worker of
the cluster can ever hold fails at once with an error saying so.

A job whose Dask task is lost (its worker died, after Dask's own
rescheduling gave up) is submitted again up to ``retries`` times. Because
:func:`plait.run_job` goes through the cache, a job that had already finished
is never run again: a recomputed task just reads the stored result.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import cloudpickle
from dask.sizeof import sizeof
from distributed.diagnostics.plugin import WorkerPlugin

from plait.cache import load_cached
from plait.resources import Resources
from plait.result import ErrorInfo, Result
from plait.run import run_job
from plait.workers import Worker

if TYPE_CHECKING:
    from distributed import Client, Future

    from plait import Job

__all__ = ["KEY_STYLES", "SCHEDULERS", "DaskWorker", "dask_key", "job_resources"]

logger = logging.getLogger(__name__)

#: Dask's local schedulers, usable without a cluster through ``scheduler=``
SCHEDULERS = ("synchronous", "threads", "processes")

#: how many finished jobs' futures are kept as dependencies of later jobs
_HELD_FUTURES = 100_000


#: how Dask keys are built: ``"node"`` (``Node-1a2b3c4d[p=3]``, default) or ``"label"`` (``Node[p=3]-1a2b3c4d``)
KEY_STYLES = ("node", "label")


def dask_key(job: Job, attempt: int = 1, style: str = "node") -> str:
    """The Dask key of ``job``.

    ``style="node"`` (default): ``Node-1a2b3c4d[p=3]`` — the key carries the
    job's node and state, the dashboard groups a node's jobs under ``Node``
    (one progress bar and one task-stream colour per node, as for
    ``client.map``), and Dask's scheduler treats a split as one task group.
    ``style="label"``: ``Node[p=3]-1a2b3c4d`` — the dashboard, which drops the
    hexadecimal suffix (:func:`dask.utils.key_split`), names every task by its
    job label, but every job is its own task group, which costs the scheduler
    several times more for splits of thousands of small jobs. Later attempts
    add ``-N``.
    """
    if style == "node":
        key = f"{job.node}-{job.checksum[:8]}"
        if job.state_label:
            key += f"[{job.state_label}]"
    else:
        key = f"{job.label}-{job.checksum[:8]}"
    return key if attempt == 1 else f"{key}-{attempt}"


def job_resources(job: Job) -> dict[str, float] | None:
    """The Dask resources of ``job`` (``{"cpus": 2, "memory": 4e9}``), or None."""
    res: Resources | None = job.resources
    return res.as_dict() if res else None


@sizeof.register(Result)
def _sizeof_result(result: Result) -> int:
    """A job result's size for Dask (memory accounting, placing jobs near their data)."""
    return 200 + int(sizeof(result.outputs))


#: output values below this size (and numbers, None) travel inside the job
_SMALL = 1024


def _travels_by_reference(value: Any) -> bool:
    """Whether an upstream output value is worth fetching from its Dask future."""
    if value is None or isinstance(value, (bool, int, float, complex)):
        return False
    if isinstance(value, (str, bytes, bytearray)):
        return len(value) >= _SMALL
    return True


def _upstream_references(outputs: list[dict[str, Any] | None]) -> dict[int, tuple[Any, ...]]:
    """``id(value) -> (upstream index, output name[, element])`` for the upstream outputs.

    ``outputs`` are the output dicts of a job's upstream jobs, in the order
    their futures are passed to its Dask task. Elements of list and tuple
    outputs are indexed too, for jobs that split over an upstream output.
    """
    refs: dict[int, tuple[Any, ...]] = {}
    for i, out in enumerate(outputs):
        for name, value in (out or {}).items():
            if not _travels_by_reference(value):
                continue
            refs[id(value)] = (i, name)
            if isinstance(value, (list, tuple)):
                for k, item in enumerate(value):
                    if _travels_by_reference(item):
                        refs.setdefault(id(item), (i, name, k))
    return refs


class _JobPickler(cloudpickle.Pickler):
    """Pickles a job with its definition class and upstream output values left out.

    The class is sent once per worker (a worker plugin); a value that is an
    output of an upstream job is replaced by a reference into that job's
    result, which Dask hands to the task from the upstream future: the data
    moves worker to worker instead of through the client and scheduler.
    """

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


#: definition classes already unpickled in this (Dask worker) process, by digest
_CLASSES: dict[str, type] = {}


def _encode_class(cls: type) -> tuple[str, bytes]:
    """A definition class pickled by value once; its digest names it."""
    import hashlib

    blob = cloudpickle.dumps(cls, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.blake2b(blob, digest_size=8).hexdigest(), blob


def _encode_job(
    job: Job, cls: type, digest: str, refs: dict[int, tuple[Any, ...]] | None = None
) -> bytes:
    buf = io.BytesIO()
    _JobPickler(buf, cls, digest, refs or {}).dump(job)
    return buf.getvalue()


def _decode_job(payload: bytes, digest: str | None, upstream: list[Result]) -> Job:
    if digest is None:
        return cloudpickle.loads(payload)  # type: ignore[no-any-return]
    cls = _CLASSES.get(digest)
    if cls is None:
        raise RuntimeError(
            f"task class {digest} was not installed on this Dask worker (plugin missing)"
        )
    return _JobUnpickler(io.BytesIO(payload), cls, upstream).load()  # type: ignore[no-any-return]


class _InstallClass(WorkerPlugin):
    """A Dask worker plugin that unpickles one task class in every worker, present and future.

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


def _run_payload(
    payload: bytes, label: str, digest: str | None = None, upstream: Any = ()
) -> Result:
    """The Dask task of one job: unpickle it and run it through the cache.

    ``digest`` names the job's definition class, installed once per worker by
    a worker plugin instead of pickled into every job. ``upstream`` are the
    results of the jobs it reads, passed as futures: Dask moves them from
    the workers that hold them (placing the job near them, and recomputing
    them from the cache if they were lost), and the job's inputs that are
    upstream outputs are read from them rather than sent inside the job.
    """
    try:
        job = _decode_job(payload, digest, list(upstream))
        return run_job(job)
    except Exception as exc:  # a job that cannot even start is a failed job, not a lost task
        return _failed(label, "", exc)


def _failed(label: str, cache_dir: str, exc: BaseException | str) -> Result:
    if isinstance(exc, BaseException):
        error = ErrorInfo.from_exception(exc, label)
    else:
        error = ErrorInfo(type="DaskWorkerError", message=exc, traceback="", job=label)
    return Result(
        outputs=None,
        cache_dir=Path(cache_dir) if cache_dir else None,
        errored=True,
        errors=(error,),
    )


class DaskWorker(Worker):
    """Run plait jobs as Dask tasks (one task per job) for the shared driver.

    Pass at most one of ``client`` (a ``distributed.Client``), ``address``
    (a scheduler address such as ``"tcp://10.0.0.5:8786"``) or ``cluster``
    (a ``LocalCluster``, ``SLURMCluster``, ...). With none of them, a
    temporary ``LocalCluster`` of ``n_workers`` processes with
    ``threads_per_worker`` threads each is started (extra options in
    ``cluster_kwargs``) and closed by :meth:`close`; its workers advertise
    ``cpus`` (their threads) and ``memory`` (their memory limit) as resources.

    ``scheduler`` instead runs jobs without ``distributed``, on Dask's
    ``"synchronous"``, ``"threads"`` or ``"processes"`` scheduler
    (``n_workers`` of them); jobs then run in waves (each :meth:`wait`
    computes everything submitted since the last one) and resources are not
    enforced.

    ``key_style``: ``"node"`` (default) keys each task ``Node-<checksum>[p=3]``
    so a node's jobs form one Dask task group (one progress bar, and far less
    scheduler work for splits of thousands of small jobs); ``"label"`` keys it
    ``Node[p=3]-<checksum>`` so the dashboard names each task by its job label,
    at a cost on large splits. See :func:`dask_key`.

    ``retries``: how many times a job whose Dask task was lost (worker died,
    ``KilledWorker``) is submitted again. ``resource_timeout``: how long to
    wait for a first worker to connect before deciding that a job with
    resources cannot fit.
    """

    name = "dask"

    def __init__(
        self,
        client: Client | None = None,
        address: str | None = None,
        cluster: Any = None,
        scheduler: str | None = None,
        *,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        retries: int = 2,
        resource_timeout: float = 60.0,
        key_style: str = "node",
    ) -> None:
        given = [
            n
            for n, v in (("client", client), ("address", address), ("cluster", cluster))
            if v is not None
        ]
        if len(given) > 1:
            raise ValueError(
                f"DaskWorker: pass only one of client=, address= or cluster= (got {' and '.join(given)})"
            )
        if scheduler is not None:
            if given:
                raise ValueError(
                    f"DaskWorker: scheduler={scheduler!r} runs jobs without a cluster and cannot be "
                    f"combined with {given[0]}=; drop one of them"
                )
            if scheduler not in SCHEDULERS:
                raise ValueError(
                    f"DaskWorker: scheduler must be one of {', '.join(map(repr, SCHEDULERS))}, "
                    f"got {scheduler!r} (for a cluster pass client=, address= or cluster=)"
                )
        if given or scheduler is not None:
            where = f"{given[0]}=" if given else f"scheduler={scheduler!r}"
            local_only = {
                "threads_per_worker": threads_per_worker,
                "cluster_kwargs": cluster_kwargs,
            }
            if given:
                local_only["n_workers"] = n_workers
            for arg, value in local_only.items():
                if value is not None:
                    raise ValueError(
                        f"DaskWorker: {arg}= configures the temporary LocalCluster and has no "
                        f"meaning with {where}"
                    )
        if key_style not in KEY_STYLES:
            raise ValueError(
                f"DaskWorker: key_style must be one of {', '.join(map(repr, KEY_STYLES))}, "
                f"got {key_style!r}"
            )
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"DaskWorker: retries must be an integer >= 0, got {retries!r}")
        if client is not None:
            from distributed import Client as _Client

            if not isinstance(client, _Client):
                raise TypeError(f"DaskWorker: client must be a distributed.Client, got {client!r}")

        self.retries = retries
        self.key_style = key_style
        self.resource_timeout = resource_timeout
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._owned: list[Any] = []  # what close() must close, last first
        self._client: Client | None = None
        self._cluster: Any = cluster
        # local-scheduler mode
        self._pending: list[Job] = []
        # distributed mode
        self._futures: dict[str, tuple[Job, int]] = {}  # future key -> (job, attempt)
        self._held: OrderedDict[str, Future] = OrderedDict()  # checksum -> finished future
        self._held_outputs: dict[str, dict[str, Any] | None] = {}  # checksum -> its outputs
        self._fits: dict[Resources, str | None] = {}
        self._completed: Any = None
        self._rejected: list[tuple[Job, Result]] = []  # jobs that can never fit
        self._to_submit: list[tuple[Job, int]] = []  # (job, attempt), sent at the next wait
        self._class_futures: dict[type, tuple[str, Any]] = {}  # class -> (digest, None)

        if scheduler is not None:
            return
        from distributed import Client as _Client
        from distributed import as_completed

        if client is not None:
            self._client = client
        elif address is not None:
            self._client = _Client(address)
            self._owned.append(self._client)
        elif cluster is not None:
            self._client = _Client(cluster)
            self._owned.append(self._client)
        else:
            self._cluster = _local_cluster(n_workers, threads_per_worker or 1, cluster_kwargs or {})
            self._owned.append(self._cluster)
            self._client = _Client(self._cluster)
            self._owned.append(self._client)
        if self._cluster is None:
            self._cluster = getattr(self._client, "cluster", None)
        self._completed = as_completed()

    # -- properties ---------------------------------------------------------
    @property
    def client(self) -> Client | None:
        """The ``distributed.Client`` jobs go through (None with ``scheduler=``)."""
        return self._client

    @property
    def cluster(self) -> Any:
        """The cluster object, when known (given, started here, or the client's)."""
        return self._cluster

    # -- Worker interface ---------------------------------------------------
    def submit(self, job: Job) -> None:
        """Start ``job`` as one Dask task keyed after its node and state (see :func:`dask_key`)."""
        if self.scheduler is not None:
            self._pending.append(job)
            return
        resources = job_resources(job)
        if resources:
            problem = self._fit(job.resources, job.label)  # type: ignore[arg-type]
            if problem is not None:
                self._rejected.append((job, _failed(job.label, job.cache_dir, problem)))
                return
        self._to_submit.append((job, 1))

    def wait(self) -> list[tuple[Job, Result]]:
        """Block until at least one job has finished; return every finished one."""
        if self.scheduler is not None:
            return self._wait_local()
        self._flush()
        if self._rejected:
            done, self._rejected = self._rejected, []
            return done
        while True:
            futures = [next(self._completed)]
            futures.extend(self._completed.next_batch(block=False))
            finished = self._finished(futures)
            if finished:
                return finished
            self._flush()  # resubmitted lost jobs

    def close(self) -> None:
        """Release held futures; close the client and cluster this worker created."""
        self._held.clear()
        self._held_outputs.clear()
        self._futures.clear()
        self._to_submit.clear()
        self._class_futures.clear()
        if self._completed is not None:
            self._completed.clear()
        while self._owned:
            obj = self._owned.pop()
            try:
                obj.close()
            except Exception:  # closing must not mask the run's own outcome
                logger.warning("closing %r failed", obj, exc_info=True)

    # -- distributed --------------------------------------------------------
    def _flush(self) -> None:
        """Send the jobs submitted since the last wait: one ``client.map`` per resource set.

        Batching keeps the per-job cost near raw Dask's (one scheduler message
        for many tasks instead of one each).
        """
        if not self._to_submit:
            return
        assert self._client is not None
        batches: dict[Any, list[tuple[Job, int]]] = {}
        for job, attempt in self._to_submit:
            res = job_resources(job)
            batches.setdefault(tuple(sorted(res.items())) if res else None, []).append(
                (job, attempt)
            )
        self._to_submit = []
        for res_key, entries in batches.items():
            payloads, labels, classes, deps, keys = [], [], [], [], []
            for job, attempt in entries:
                cls = type(job.definition)
                known = self._class_futures.get(cls)
                if known is None:
                    digest, blob = _encode_class(cls)
                    self._client.register_plugin(_InstallClass(digest, blob))
                    known = self._class_futures[cls] = (digest, None)
                held = [c for c in job.upstream if c in self._held]
                refs = _upstream_references([self._held_outputs[c] for c in held]) if held else None
                payloads.append(_encode_job(job, cls, known[0], refs))
                labels.append(job.label)
                classes.append(known[0])
                deps.append([self._held[c] for c in held])
                key = dask_key(job, attempt, self.key_style)
                keys.append(key)
                self._futures[key] = (job, attempt)
            futures = self._client.map(
                _run_payload,
                payloads,
                labels,
                classes,
                deps,
                key=keys,
                resources=dict(res_key) if res_key else None,
                pure=False,
                batch_size=None,
            )
            self._completed.update(futures)

    def _finished(self, futures: list[Future]) -> list[tuple[Job, Result]]:
        """Pair finished futures with their jobs' results.

        A successful job's result is read from its cache directory (the cache
        is shared with the workers, as the driver's own cache look-ups already
        require), so results do not travel back through Dask; only failures
        and results the client cannot see are gathered, in one call.
        """
        assert self._client is not None
        out: list[tuple[Job, Result]] = []
        fetch: list[tuple[Job, Future]] = []
        for future in futures:
            entry = self._futures.pop(str(future.key), None)
            if entry is None:  # released by close()
                continue
            job, attempt = entry
            if future.status == "finished":
                result = load_cached(job.cache_dir, job.readonly_caches)
                if result is None:
                    fetch.append((job, future))
                else:
                    out.append((job, attrs.evolve(result, cached=False)))
                    self._hold(job, future, result)
                continue
            try:
                exc: BaseException | str | None = future.exception()
            except Exception as e:  # cancelled futures raise here
                exc = e
            if exc is None:  # its result was lost with a worker before it was read
                exc = f"task {future.status}"
            if attempt <= self.retries:
                logger.warning(
                    "Dask lost job %s (%s); submitting it again (%d/%d)",
                    job.label,
                    exc,
                    attempt,
                    self.retries,
                )
                self._to_submit.append((job, attempt + 1))
                continue
            message = f"Dask could not run the job after {attempt} attempt(s): {exc!r}"
            out.append((job, _failed(job.label, job.cache_dir, message)))
        if fetch:
            try:
                results = self._client.gather([f for _, f in fetch])
            except Exception:  # one vanished: fetch them one by one
                results = [self._gather_one(job, f) for job, f in fetch]
            for (job, future), result in zip(fetch, results):
                out.append((job, result))
                self._hold(job, future, result)
        while len(self._held) > _HELD_FUTURES:
            checksum, _ = self._held.popitem(last=False)
            self._held_outputs.pop(checksum, None)
        return out

    def _hold(self, job: Job, future: Future, result: Result) -> None:
        """Keep a finished job's future (and outputs) for the jobs that will read it."""
        if result.errored:
            return
        self._held[job.checksum] = future
        self._held_outputs[job.checksum] = result.outputs

    def _gather_one(self, job: Job, future: Future) -> Result:
        try:
            return future.result()  # type: ignore[no-any-return]
        except Exception as exc:
            return _failed(job.label, job.cache_dir, exc)

    # -- resources ------------------------------------------------------------
    def _fit(self, res: Resources, label: str) -> str | None:
        """None if some worker can hold a job needing ``res``, else why not."""
        if res in self._fits:
            return self._fits[res]
        need = res.as_dict()
        offers = self._offers()
        if not offers:
            assert self._client is not None
            try:
                self._client.wait_for_workers(1, timeout=self.resource_timeout)
            except TimeoutError:
                pass
            offers = self._offers()
        problem = None
        if not any(all(o.get(k, 0) >= v for k, v in need.items()) for o in offers):
            shown = ", ".join(_fmt(o) for o in offers) if offers else "none connected"
            want = ",".join(f"{k}={_num(v)}" for k, v in need.items())
            problem = (
                f"{label} needs {_fmt(need)} per job, but no worker of the Dask cluster offers "
                f"that (workers offer: {shown}), so it could never run. Start workers with "
                f'matching resources (dask worker --resources "{want}"; dask-jobqueue: '
                f'worker_extra_args=["--resources", "{want}"], see plait_dask.jobqueue_kwargs) '
                "or declare less cpus/memory on the task."
            )
        self._fits[res] = problem
        return problem

    def _offers(self) -> list[dict[str, float]]:
        """Resources of each connected worker, and of the workers the cluster would add."""
        assert self._client is not None
        info = self._client.scheduler_info(n_workers=-1)
        offers = [dict(w.get("resources") or {}) for w in info.get("workers", {}).values()]
        template = cluster_worker_resources(self._cluster)
        if template is not None:
            offers.append(template)
        return offers

    # -- local schedulers -----------------------------------------------------
    def _wait_local(self) -> list[tuple[Job, Result]]:
        import dask

        jobs, self._pending = self._pending, []
        graph = {
            dask_key(job): (
                _run_payload,
                cloudpickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL),
                job.label,
            )
            for job in jobs
        }
        keys = [dask_key(job) for job in jobs]
        options: dict[str, Any] = {"scheduler": self.scheduler}
        if self.n_workers is not None and self.scheduler != "synchronous":
            options["num_workers"] = self.n_workers
        try:
            results = (
                dask.get(graph, keys)
                if self.scheduler == "synchronous"
                else _local_get(graph, keys, options)
            )
        except Exception as exc:  # the scheduler itself failed (e.g. a process died)
            results = [_failed(job.label, job.cache_dir, exc) for job in jobs]
        return list(zip(jobs, results))


def _local_get(graph: dict[str, Any], keys: list[str], options: dict[str, Any]) -> list[Result]:
    import dask.multiprocessing
    import dask.threaded

    get: Any = dask.threaded.get if options["scheduler"] == "threads" else dask.multiprocessing.get
    kwargs = {"num_workers": options["num_workers"]} if "num_workers" in options else {}
    return list(get(graph, keys, **kwargs))


def _local_cluster(
    n_workers: int | None, threads_per_worker: int, cluster_kwargs: dict[str, Any]
) -> Any:
    """A LocalCluster whose workers advertise their threads and memory as resources."""
    from distributed import LocalCluster
    from distributed.system import MEMORY_LIMIT

    n = n_workers or max(1, (os.cpu_count() or 1) // threads_per_worker)
    kwargs: dict[str, Any] = {
        "n_workers": n,
        "threads_per_worker": threads_per_worker,
        "processes": True,
        "dashboard_address": ":0",
        "resources": {"cpus": threads_per_worker, "memory": MEMORY_LIMIT // n},
    }
    kwargs.update(cluster_kwargs)
    return LocalCluster(**kwargs)


_RESOURCES_ARG = re.compile(r"--resources[ =]+(['\"]?)([^'\"\s]+(?:\s+[^-'\"\s][^'\"\s]*)*)\1")


def parse_resources(text: str) -> dict[str, float]:
    """``"cpus=2,memory=4e9"`` (or space separated) as ``{"cpus": 2.0, "memory": 4e9}``."""
    out: dict[str, float] = {}
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        name, _, value = item.partition("=")
        out[name] = float(value)
    return out


def cluster_worker_resources(cluster: Any) -> dict[str, float] | None:
    """The resources each new worker of ``cluster`` will advertise, when it says.

    For dask-jobqueue clusters, the ``--resources`` of their job script; for
    other ``SpecCluster`` s (``LocalCluster`` ...), the ``resources`` option
    of their worker spec. None when unknown.
    """
    if cluster is None:
        return None
    job_script = getattr(cluster, "job_script", None)
    if callable(job_script):
        try:
            script = job_script()
        except Exception:
            return None
        m = _RESOURCES_ARG.search(script)
        return parse_resources(m.group(2)) if m else {}
    spec = getattr(cluster, "new_spec", None)
    if isinstance(spec, dict):
        options = spec.get("options") or {}
        res = options.get("resources")
        if isinstance(res, str):
            return parse_resources(res)
        if isinstance(res, dict):
            return {k: float(v) for k, v in res.items()}
        return {}
    return None


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _fmt(res: dict[str, float]) -> str:
    if not res:
        return "{no resources}"
    return "{" + ", ".join(f"{k}={_num(v)}" for k, v in sorted(res.items())) + "}"
