"""Dask keys of plait jobs: named after the job's node and state.

Example: ``dask_key(job)`` is ``TenToThePower-1a2b3c4d[p=3]``: the dashboard
(:func:`dask.utils.key_split`) groups it under ``TenToThePower``, and the key
ends with the job's state as plait renders it everywhere (quoted values
included: ``Pair-1a2b3c4d[b="x,y"]``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plait import Job

__all__ = ["KEY_STYLES", "dask_key"]

#: how Dask keys are built: ``"node"`` (``Node-1a2b3c4d[p=3]``, default) or ``"label"``
#: (``Node[p=3]-1a2b3c4d``)
KEY_STYLES = ("node", "label")


def dask_key(job: Job, attempt: int = 1, style: str = "node", run: str = "") -> str:
    """The Dask key of ``job``.

    ``style="node"`` (default): ``Node-1a2b3c4d[p=3]`` — the dashboard groups
    a node's jobs under ``Node`` (one progress bar and one task-stream colour
    per node, as for ``client.map``), and Dask's scheduler treats a split as
    one task group. ``style="label"``: ``Node[p=3]-1a2b3c4d`` — the dashboard,
    which drops the hexadecimal suffix, names every task by its job label,
    but every job is its own task group, which costs the scheduler several
    times more for splits of thousands of small jobs. Later attempts add
    ``-N``. ``run`` (a token per run) makes the hexadecimal part differ
    between runs, so Dask never answers a job of one run from what it
    remembers of another (a failed job is run again when it is asked again).
    """
    digest = job.checksum[:8]
    if run:
        digest = hashlib.blake2b(f"{job.checksum}:{run}".encode(), digest_size=4).hexdigest()
    if style == "node":
        key = f"{job.node}-{digest}"
        if job.state_label:
            key += f"[{job.state_label}]"
    else:
        key = f"{job.label}-{digest}"
    return key if attempt == 1 else f"{key}-{attempt}"
