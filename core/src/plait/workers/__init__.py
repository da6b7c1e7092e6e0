"""Workers run jobs for the shared driver; find them by name with :func:`get_worker`.

Built in: ``debug`` (serial, in-process, the default) and ``cf`` (a local
process pool). Adapters add more (``dask``, ``prefect``) through the
``plait.workers`` entry-point group.
"""

from __future__ import annotations

from typing import Any

from .base import Worker

__all__ = ["Worker", "available_workers", "get_worker"]

_BUILTIN = {
    "debug": "plait.workers.debug:DebugWorker",
    "cf": "plait.workers.cf:ConcurrentFuturesWorker",
}

#: worker names that other distributions provide, and how to install them from the repository
KNOWN_ELSEWHERE = {
    "dask": "it is provided by plait-dask: pip install ./core ./adapters/dask",
    "prefect": "it is provided by plait-prefect: pip install ./core ./adapters/prefect",
    "airflow": (
        "Airflow is not a worker: Airflow schedules plait jobs itself through plait-airflow "
        "(pip install ./core ./adapters/airflow; then plait_airflow.to_dag or PlaitOperator)"
    ),
}


def available_workers() -> dict[str, str]:
    """Installed worker names and the objects they point to."""
    from importlib.metadata import entry_points

    found = dict(_BUILTIN)
    for ep in entry_points(group="plait.workers"):
        found[ep.name] = ep.value
    return found


def _load(target: str) -> Any:
    import importlib

    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def get_worker(worker: str | Worker | None = None, **kwargs: Any) -> Worker:
    """A worker from its name (and keyword arguments), or ``worker`` itself if it is one."""
    if worker is None:
        worker = "debug"
    if isinstance(worker, Worker):
        if kwargs:
            raise TypeError(
                f"worker arguments {sorted(kwargs)} given with a worker object; "
                "pass them to its constructor"
            )
        return worker
    if not isinstance(worker, str):
        raise TypeError(f"worker must be a name or a plait Worker, got {worker!r}")
    names = available_workers()
    if worker not in names:
        hint = KNOWN_ELSEWHERE.get(worker)
        raise ValueError(
            f"unknown worker {worker!r}; installed workers: {', '.join(sorted(names))}"
            + (f"; {hint}" if hint else "")
        )
    cls = _load(names[worker])
    return cls(**kwargs)
