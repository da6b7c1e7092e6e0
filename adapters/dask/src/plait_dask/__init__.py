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

Modules: :mod:`~plait_dask.worker` (the ``dask`` worker), :mod:`~plait_dask.transport`
(jobs and their upstream data on the way to a Dask worker), :mod:`~plait_dask.resources`
(declared resources as Dask worker resources), :mod:`~plait_dask.keys` (Dask keys),
:mod:`~plait_dask.collection` (``to_dask``), :mod:`~plait_dask.jobqueue` (batch-job sizing).
"""

from __future__ import annotations

from .collection import to_dask
from .errors import SchedulerLostError
from .jobqueue import jobqueue_kwargs
from .keys import dask_key
from .resources import (
    cluster_worker_resources,
    fit_reason,
    job_resources,
    unfit_reason,
    worker_offers,
)
from .worker import DaskWorker

__all__ = [
    "DaskWorker",
    "SchedulerLostError",
    "cluster_worker_resources",
    "dask_key",
    "fit_reason",
    "job_resources",
    "jobqueue_kwargs",
    "to_dask",
    "unfit_reason",
    "worker_offers",
]

__version__ = "0.1.0"
