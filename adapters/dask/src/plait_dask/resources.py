"""Task resources on Dask: declared ``cpus``/``memory`` as Dask worker resources.

A plait job that declares resources (``python.define(cpus=2, memory="4GB")``)
becomes a Dask task with ``resources={"cpus": 2, "memory": 4e9}``; Dask runs it
only on a worker advertising at least that much. A job no worker can ever
hold would wait for ever, so hosts check first::

    from plait_dask.resources import fit_reason, job_resources

    need = job_resources(job)                     # {"cpus": 2, "memory": 4e9} or None
    if need:
        reason = fit_reason(client, job.label, need, cluster)   # None if it fits
        if reason is not None:
            ...                                   # fail the job with ``reason``

Used by plait's own :class:`~plait_dask.DaskWorker` and by hosts that run
plait jobs on Dask through another layer (prefect-dask's ``DaskTaskRunner``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

    from plait import Job

__all__ = [
    "cluster_worker_resources",
    "fit_reason",
    "job_resources",
    "parse_resources",
    "unfit_reason",
    "worker_offers",
]

_RESOURCES_ARG = re.compile(r"--resources[ =]+(['\"]?)([^'\"\s]+(?:\s+[^-'\"\s][^'\"\s]*)*)\1")


def job_resources(job: Job) -> dict[str, float] | None:
    """The Dask resources of ``job`` (``{"cpus": 2, "memory": 4e9}``), or None."""
    return job.resources.as_dict() if job.resources else None


def parse_resources(text: str) -> dict[str, float]:
    """``"cpus=2,memory=4e9"`` (or space separated) as ``{"cpus": 2.0, "memory": 4e9}``."""
    out: dict[str, float] = {}
    for item in re.split(r"[,\s]+", text.strip()):
        if item:
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
        res = (spec.get("options") or {}).get("resources")
        if isinstance(res, str):
            return parse_resources(res)
        if isinstance(res, dict):
            return {k: float(v) for k, v in res.items()}
        return {}
    return None


def worker_offers(client: Client, cluster: Any = None) -> list[dict[str, float]]:
    """The resources of each connected worker, and of the workers ``cluster`` would add."""
    info = client.scheduler_info(n_workers=-1)
    offers = [dict(w.get("resources") or {}) for w in info.get("workers", {}).values()]
    template = cluster_worker_resources(cluster)
    if template is not None:
        offers.append(template)
    return offers


def unfit_reason(
    label: str, need: Mapping[str, float], offers: Sequence[Mapping[str, float]]
) -> str | None:
    """None if one of ``offers`` can hold a job needing ``need``; else why not, with the fix.

    ``offers`` are worker resources (see :func:`worker_offers`). ``label``
    names the job in the message.
    """
    if any(all(o.get(k, 0) >= v for k, v in need.items()) for o in offers):
        return None
    shown = ", ".join(_fmt(o) for o in offers) if offers else "none connected"
    want = ",".join(f"{k}={_num(v)}" for k, v in need.items())
    return (
        f"{label} needs {_fmt(need)} per job, but no worker of the Dask cluster offers "
        f"that (workers offer: {shown}), so it could never run. Start workers with "
        f'matching resources (dask worker --resources "{want}"; dask-jobqueue: '
        f'worker_extra_args=["--resources", "{want}"], see plait_dask.jobqueue_kwargs) '
        "or declare less cpus/memory on the task."
    )


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _fmt(res: Mapping[str, float]) -> str:
    if not res:
        return "{no resources}"
    return "{" + ", ".join(f"{k}={_num(v)}" for k, v in sorted(res.items())) + "}"


def fit_reason(
    client: Client,
    label: str,
    need: Mapping[str, float],
    cluster: Any = None,
    timeout: float = 60.0,
) -> str | None:
    """None if a worker of ``client``'s cluster can hold a job needing ``need``, else why not.

    Looks at the connected workers and at those ``cluster`` would add; with
    neither, waits up to ``timeout`` seconds for a first worker. Callers that
    check many jobs cache the answer per resource set.
    """
    offers = worker_offers(client, cluster)
    if not offers:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            pass
        offers = worker_offers(client, cluster)
    return unfit_reason(label, need, offers)
