"""plait on Dask: ``worker="dask"`` for the shared driver, and ``to_dask`` collections.

Example::

    from plait import Submitter
    from distributed import LocalCluster

    with LocalCluster(n_workers=2) as cluster, Submitter(worker="dask", cluster=cluster) as sub:
        result = sub(TenToThePower().split(p=[1, 2, 3]))

    import dask
    from plait_dask import to_dask

    (outputs,) = dask.compute(to_dask(Powers(ps=[1, 2, 3])))

On SLURM, PBS or SGE pass a dask-jobqueue cluster (``cluster=SLURMCluster(...)``);
:func:`jobqueue_kwargs` sizes its jobs for the workflow's declared resources.
"""

from __future__ import annotations

from .collection import to_dask
from .jobqueue import jobqueue_kwargs
from .worker import DaskWorker, cluster_worker_resources, dask_key, job_resources

__all__ = [
    "DaskWorker",
    "cluster_worker_resources",
    "dask_key",
    "job_resources",
    "jobqueue_kwargs",
    "to_dask",
]

__version__ = "0.1.0"
