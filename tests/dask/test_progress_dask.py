"""Progress on the dask worker: per-node counts add up with a partly filled cache and a failure."""

from __future__ import annotations

from pathlib import Path

from ux_tasks import SumOfSquares

from plait import Progress, Submitter
from plait.progress import ProgressCounts


def test_counts_add_up_on_dask(cache: Path, client: object) -> None:
    with Submitter(worker="dask", client=client, cache_root=cache, progress=False) as sub:
        assert sub(SumOfSquares(xs=[1, 2, 3, 4])).errored  # caches x=1, 2, 4; x=3 fails
        events: list[Progress] = []
        counts = ProgressCounts()
        sub.progress = lambda e: (events.append(e), counts(e))
        result = sub(SumOfSquares(xs=[1, 2, 3, 4, 5]))
    assert result.errored
    square, total = counts.nodes["Square"], counts.nodes["Total"]
    assert (square.cached, square.failed, square.done) == (3, 1, 1)
    assert square.finished == 5 == counts.total(square)
    assert (total.skipped, total.finished) == (1, 1)
    assert events[-1].done == events[-1].total
