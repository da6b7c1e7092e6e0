"""Errors of the Dask adapter."""

from __future__ import annotations

from collections.abc import Sequence

from plait.errors import PlaitError

__all__ = ["SchedulerLostError"]

#: how many unfinished jobs the message names (all are in ``.unfinished``)
_SHOWN = 20


class SchedulerLostError(PlaitError, ConnectionError):
    """The Dask client lost its scheduler mid-run; ``unfinished`` are the jobs it took along.

    Every job that had finished is in the cache, so running the workflow
    again (on a new cluster) runs only the unfinished ones.
    """

    def __init__(self, address: str, unfinished: Sequence[str], cache_root: str | None) -> None:
        self.address = address
        self.unfinished = tuple(unfinished)
        shown = ", ".join(self.unfinished[:_SHOWN])
        if len(self.unfinished) > _SHOWN:
            shown += f" ... and {len(self.unfinished) - _SHOWN} more"
        where = f" in {cache_root}" if cache_root else ""
        super().__init__(
            f"plait lost its connection to the Dask scheduler {address} mid-run; "
            f"{len(self.unfinished)} job(s) were unfinished: {shown or 'none'}. "
            f"Every finished job is in the cache{where}: run the workflow again (on a "
            "running cluster) and only the unfinished jobs and their dependents will run."
        )
