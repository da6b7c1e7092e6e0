"""Size dask-jobqueue jobs (SLURM, PBS, SGE ...) for a workflow's declared resources.

Example::

    from dask_jobqueue import SLURMCluster
    from plait_dask import jobqueue_kwargs

    cluster = SLURMCluster(**jobqueue_kwargs(
        MyWorkflow(...), queue="debug", walltime="01:00:00",
        job_extra_directives=["--qos=normal"],
    ))

Each batch job is made big enough for the largest job of the workflow
(``cpus``, ``memory`` declared with ``python.define(cpus=..., memory=...)``),
and its Dask workers advertise their share as resources
(``--resources cpus=N,memory=M``), which plait's Dask tasks ask for.
"""

from __future__ import annotations

from typing import Any

from dask.utils import parse_bytes

from plait import TaskDef, compile
from plait.resources import Resources

__all__ = ["jobqueue_kwargs", "max_resources"]

#: memory per core when neither the workflow nor the caller says
DEFAULT_MEMORY_PER_CORE = 1_000_000_000


def max_resources(defn: TaskDef) -> Resources:
    """The largest ``cpus`` and ``memory`` any node of ``defn`` declares (nested too)."""
    cpus = 0
    memory = 0
    stack = [defn]
    seen: set[int] = set()
    while stack:
        d = stack.pop()
        if id(d) in seen:
            continue
        seen.add(id(d))
        try:
            graph = compile(d, cache_root="/nonexistent-plait-sizing")
        except Exception:  # a nested workflow whose inputs are only known at run time
            res = type(d)._resources
            nodes_res = [res] if res else []
        else:
            nodes_res = []
            for node in graph.nodes.values():
                if node.resources:
                    nodes_res.append(node.resources)
                if node.kind == "workflow" and node.definition is not d:
                    stack.append(node.definition)
        for r in nodes_res:
            cpus = max(cpus, r.cpus or 0)
            memory = max(memory, r.memory or 0)
    return Resources(cpus=cpus or None, memory=memory or None)


def jobqueue_kwargs(
    defn: TaskDef | None = None,
    *,
    cores: int | None = None,
    memory: str | int | None = None,
    processes: int = 1,
    **kwargs: Any,
) -> dict[str, Any]:
    """Keyword arguments for a dask-jobqueue cluster whose jobs fit every job of ``defn``.

    ``cores`` and ``memory`` are raised to what the largest job needs (times
    ``processes``, the Dask workers per batch job); memory defaults to 1 GB
    per core. ``worker_extra_args`` gets ``--resources cpus=..,memory=..`` so
    that each worker advertises its share. Other keyword arguments
    (``queue``, ``walltime``, ``account``, ``job_extra_directives``,
    ``log_directory`` ...) pass through unchanged.
    """
    if processes < 1:
        raise ValueError(f"jobqueue_kwargs: processes must be >= 1, got {processes}")
    need = max_resources(defn) if defn is not None else Resources()
    per_worker_cpus = max((cores or 1) // processes, need.cpus or 1)
    asked_mem = parse_bytes(memory) if isinstance(memory, str) else memory
    per_worker_mem = max(
        (asked_mem or DEFAULT_MEMORY_PER_CORE * per_worker_cpus * processes) // processes,
        need.memory or 0,
    )
    extra = list(kwargs.pop("worker_extra_args", None) or [])
    if "--resources" in extra:
        raise ValueError(
            "jobqueue_kwargs: worker_extra_args already has --resources; "
            "let jobqueue_kwargs set them, or size the cluster yourself"
        )
    extra += ["--resources", f"cpus={per_worker_cpus},memory={per_worker_mem}"]
    return {
        **kwargs,
        "cores": per_worker_cpus * processes,
        "memory": f"{per_worker_mem * processes}B",
        "processes": processes,
        "worker_extra_args": extra,
    }
