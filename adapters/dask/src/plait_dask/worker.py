"""The ``dask`` worker: plait jobs as Dask tasks, on any ``distributed`` cluster.

The core's shared :class:`plait.Driver` walks the graph; this worker turns
each job it is handed into one Dask task keyed after the job's node and state
(``TenToThePower-1a2b3c4d[p=3]``, see :mod:`plait_dask.keys`) that calls
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
``LocalCluster`` that is closed with the worker.

Upstream results reach a job as Dask futures (:mod:`plait_dask.transport`);
declared resources become Dask worker resources, and a job no worker can
ever hold fails at once (:mod:`plait_dask.resources`). A job whose Dask task
is lost (its worker died, after Dask's own rescheduling gave up) is submitted
again up to ``retries`` times; through the cache, a job that had finished
never runs again. If the client loses its scheduler, the run stops with one
:class:`~plait_dask.SchedulerLostError` naming the unfinished jobs.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import attrs

from plait.cache import load_cached
from plait.resources import Resources
from plait.result import Result
from plait.workers import Worker

from .errors import SchedulerLostError
from .keys import KEY_STYLES, dask_key
from .resources import fit_reason, job_resources
from .transport import JobEncoder, run_encoded

if TYPE_CHECKING:
    from distributed import Client, Future

    from plait import Graph, Job

__all__ = ["DaskWorker"]

logger = logging.getLogger(__name__)

#: how many finished jobs' futures are kept as dependencies of later jobs
_HELD_FUTURES = 100_000


class DaskWorker(Worker):
    """Run plait jobs as Dask tasks (one task per job) for the shared driver.

    Pass at most one of ``client`` (a ``distributed.Client``), ``address``
    (a scheduler address such as ``"tcp://10.0.0.5:8786"``) or ``cluster``
    (a ``LocalCluster``, ``SLURMCluster``, ...). With none of them, a
    temporary ``LocalCluster`` of ``n_workers`` processes with
    ``threads_per_worker`` threads each is started (extra options in
    ``cluster_kwargs``) and closed by :meth:`close`; its workers advertise
    ``cpus`` (their threads) and ``memory`` (their memory limit) as resources.

    ``key_style``: ``"node"`` (default) keys each task ``Node-<checksum>[p=3]``
    so a node's jobs form one Dask task group; ``"label"`` keys it
    ``Node[p=3]-<checksum>`` so the dashboard names each task by its job
    label, at a cost on large splits. See :func:`~plait_dask.dask_key`.

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
        *,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        retries: int = 2,
        resource_timeout: float = 60.0,
        key_style: str = "node",
    ) -> None:
        from distributed import Client as _Client
        from distributed import as_completed

        given = [
            n
            for n, v in (("client", client), ("address", address), ("cluster", cluster))
            if v is not None
        ]
        if len(given) > 1:
            raise ValueError(
                f"DaskWorker: pass only one of client=, address= or cluster= (got {' and '.join(given)})"
            )
        if given:
            local_only = {
                "n_workers": n_workers,
                "threads_per_worker": threads_per_worker,
                "cluster_kwargs": cluster_kwargs,
            }
            for arg, value in local_only.items():
                if value is not None:
                    raise ValueError(
                        f"DaskWorker: {arg}= configures the temporary LocalCluster and has no "
                        f"meaning with {given[0]}="
                    )
        if key_style not in KEY_STYLES:
            raise ValueError(
                f"DaskWorker: key_style must be one of {', '.join(map(repr, KEY_STYLES))}, "
                f"got {key_style!r}"
            )
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"DaskWorker: retries must be an integer >= 0, got {retries!r}")
        if client is not None and not isinstance(client, _Client):
            raise TypeError(f"DaskWorker: client must be a distributed.Client, got {client!r}")

        self.retries = retries
        self.key_style = key_style
        self.resource_timeout = resource_timeout
        self._owned: list[Any] = []  # what close() must close, last first
        self._cluster: Any = cluster
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
        self._encoder = JobEncoder(self._client)
        self._completed = as_completed()
        self._futures: dict[str, tuple[Job, int]] = {}  # future key -> (job, attempt)
        self._held: OrderedDict[str, Future] = OrderedDict()  # checksum -> finished future
        self._held_outputs: dict[str, dict[str, Any] | None] = {}  # checksum -> its outputs
        self._fits: dict[Resources, str | None] = {}
        self._rejected: list[tuple[Job, Result]] = []  # jobs that can never fit
        self._to_submit: list[tuple[Job, int]] = []  # (job, attempt), sent at the next wait
        # a new run gets keys of its own: Dask must not answer a rerun of a failed job
        # from the memory of an earlier run on the same client
        self._run_token = uuid.uuid4().hex

    @property
    def client(self) -> Client:
        """The ``distributed.Client`` jobs go through."""
        return self._client

    @property
    def cluster(self) -> Any:
        """The cluster object, when known (given, started here, or the client's)."""
        return self._cluster

    # -- Worker interface ---------------------------------------------------
    def start(self, graph: Graph) -> None:
        """A new run: its jobs get Dask keys no earlier run used."""
        self._run_token = uuid.uuid4().hex

    def submit(self, job: Job) -> None:
        """Start ``job`` as one Dask task keyed after its node and state."""
        if job.resources:
            problem = self._fit(job.resources, job.label)
            if problem is not None:
                self._rejected.append((job, Result.failure(problem, job.label, job.cache_dir)))
                return
        self._to_submit.append((job, 1))

    def wait(self) -> list[tuple[Job, Result]]:
        """Block until at least one job has finished; return every finished one.

        Raises :class:`~plait_dask.SchedulerLostError` if the client has lost
        its scheduler.
        """
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
        self._completed.clear()
        while self._owned:
            obj = self._owned.pop()
            try:
                obj.close()
            except Exception:  # closing must not mask the run's own outcome
                logger.warning("closing %r failed", obj, exc_info=True)

    # -- submitting ---------------------------------------------------------
    def _flush(self) -> None:
        """Send the jobs submitted since the last wait: one ``client.map`` per resource set.

        Batching keeps the per-job cost near raw Dask's (one scheduler message
        for many tasks instead of one each).
        """
        if not self._to_submit:
            return
        self._check_connected()
        batches: dict[Any, list[tuple[Job, int]]] = {}
        for job, attempt in self._to_submit:
            res = job_resources(job)
            batches.setdefault(tuple(sorted(res.items())) if res else None, []).append(
                (job, attempt)
            )
        self._to_submit = []
        for res_key, entries in batches.items():
            payloads, labels, digests, deps, keys = [], [], [], [], []
            for job, attempt in entries:
                held = [c for c in job.upstream if c in self._held]
                payload, digest = self._encoder.encode(job, [self._held_outputs[c] for c in held])
                payloads.append(payload)
                labels.append(job.label)
                digests.append(digest)
                deps.append([self._held[c] for c in held])
                key = dask_key(job, attempt, self.key_style, run=self._run_token)
                keys.append(key)
                self._futures[key] = (job, attempt)
            futures = self._client.map(
                run_encoded,
                payloads,
                labels,
                digests,
                deps,
                key=keys,
                resources=dict(res_key) if res_key else None,
                pure=False,
                batch_size=None,
            )
            self._completed.update(futures)

    # -- finished tasks -----------------------------------------------------
    def _finished(self, futures: list[Future]) -> list[tuple[Job, Result]]:
        """Pair finished futures with their jobs' results.

        A successful job's result is read from its cache directory (the cache
        is shared with the workers, as the driver's own cache look-ups already
        require), so results do not travel back through Dask; only failures
        and results the client cannot see are gathered, in one call.
        """
        out: list[tuple[Job, Result]] = []
        fetch: list[tuple[Job, Future]] = []
        for future in futures:
            entry = self._futures.get(str(future.key))
            if entry is None:  # released by close()
                continue
            job, attempt = entry
            if future.status == "finished":
                del self._futures[str(future.key)]
                result = load_cached(job.cache_dir, job.readonly_caches)
                if result is None:
                    fetch.append((job, future))
                else:
                    out.append((job, attrs.evolve(result, cached=False)))
                    self._hold(job, future, result)
                continue
            if future.status == "cancelled":
                self._check_connected()  # cancelled because the scheduler went away?
            del self._futures[str(future.key)]
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
            out.append((job, Result.failure(message, job.label, job.cache_dir)))
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
        if not result.errored:
            self._held[job.checksum] = future
            self._held_outputs[job.checksum] = result.outputs

    def _gather_one(self, job: Job, future: Future) -> Result:
        try:
            return future.result()  # type: ignore[no-any-return]
        except Exception as exc:
            self._check_connected()
            return Result.failure(exc, job.label, job.cache_dir)

    def _check_connected(self) -> None:
        """Raise :class:`SchedulerLostError` if the client has lost its scheduler."""
        if self._client.status == "running":
            return
        unfinished = [job.label for job, _ in self._futures.values()]
        unfinished += [job.label for job, _ in self._to_submit]
        some = next(iter(self._futures.values()), None) or next(iter(self._to_submit), None)
        root = os.path.dirname(some[0].cache_dir) if some else None
        address = getattr(self._client.scheduler, "address", None) or "(unknown address)"
        raise SchedulerLostError(address, list(dict.fromkeys(unfinished)), root)

    # -- resources ------------------------------------------------------------
    def _fit(self, res: Resources, label: str) -> str | None:
        """None if some worker can hold a job needing ``res``, else why not (cached)."""
        if res not in self._fits:
            self._fits[res] = fit_reason(
                self._client, label, res.as_dict(), self._cluster, self.resource_timeout
            )
        return self._fits[res]


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
