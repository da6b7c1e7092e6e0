"""Progress events add up per node; the live display reaches 100% in a terminal only."""

from __future__ import annotations

import io
from pathlib import Path

from ux_tasks import SumOfSquares

from plait import Progress, Submitter
from plait.progress import LiveProgress, ProgressCounts, progress_for


def test_counts_add_up_with_partial_cache_and_a_failure(cache: Path, worker: str) -> None:
    with Submitter(worker=worker, cache_root=cache, progress=False) as sub:
        assert sub(SumOfSquares(xs=[1, 2, 3, 4])).errored  # caches x=1, 2, 4; x=3 fails
        events: list[Progress] = []
        counts = ProgressCounts()
        sub.progress = lambda e: (events.append(e), counts(e))
        result = sub(SumOfSquares(xs=[1, 2, 3, 4, 5]))
    assert result.errored
    square, total = counts.nodes["Square"], counts.nodes["Total"]
    # x=1, 2, 4 from the cache; x=3 fails again (failures are rerun); x=5 runs
    assert (square.cached, square.failed, square.done) == (3, 1, 1)
    assert square.finished == 5 == counts.total(square)
    assert (total.skipped, total.finished, counts.total(total)) == (1, 1, 1)
    assert square.status == "failed" and total.status == "skipped"


def test_event_done_counts_every_finished_job(cache: Path) -> None:
    for xs in ([1, 2, 3], [1, 2, 3, 4]):  # the second run is partly cached
        events: list[Progress] = []
        with Submitter(cache_root=cache, progress=events.append) as sub:
            sub(SumOfSquares(xs=xs))
        for i, e in enumerate(events):
            finished = sum(1 for x in events[: i + 1] if x.status != "submitted")
            assert e.done == finished, (i, e)
        assert events[-1].done == events[-1].total


def test_result_cached_on_a_full_cache_hit(cache: Path, worker: str) -> None:
    with Submitter(worker=worker, cache_root=cache, progress=False) as sub:
        first = sub(SumOfSquares(xs=[1, 2]))
        second = sub(SumOfSquares(xs=[1, 2]))
    assert not first.cached
    assert second.cached
    assert second.outputs.total == 5


def test_live_display_reaches_100_percent_in_a_terminal(cache: Path) -> None:
    out = io.StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]
    live = LiveProgress(file=out)
    live.console.force_terminal = True  # type: ignore[misc]
    with live, Submitter(cache_root=cache, progress=live) as sub:
        sub(SumOfSquares(xs=[1, 2, 4]))
    text = out.getvalue()
    assert "\x1b[" in text  # drawn with control sequences
    assert "Square" in text and "Total" in text
    assert "3/3" in text and "1/1" in text
    assert all(c.finished == live.total(c) for c in live.nodes.values())


def test_no_display_when_not_a_terminal_or_off(cache: Path) -> None:
    graph = _graph(cache)
    assert _callback(None, graph, io.StringIO()) is None
    assert _callback(False, graph, _Tty()) is None
    assert isinstance(_callback(None, graph, _Tty()), LiveProgress)
    user = print
    assert _callback(user, graph, _Tty()) is user


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _graph(cache: Path) -> tuple[object, object]:
    import plait

    defn = SumOfSquares(xs=[1, 2])
    return plait.compile(defn, cache_root=cache, inline=False), defn


def _callback(setting: object, graph: tuple[object, object], stream: io.StringIO) -> object:
    with progress_for(setting, graph[0], graph[1], file=stream) as cb:  # type: ignore[arg-type]
        return cb


def test_display_of_a_workflow_served_whole_from_the_cache(cache: Path) -> None:
    with Submitter(cache_root=cache, progress=False) as sub:
        sub(SumOfSquares(xs=[1, 2]))
    out = _Tty()
    import plait

    graph = plait.compile(SumOfSquares(xs=[1, 2]), cache_root=cache)
    live = LiveProgress(graph, file=out)
    live.console.force_terminal = True  # type: ignore[misc]
    with live, Submitter(cache_root=cache, progress=live) as sub:
        assert sub(SumOfSquares(xs=[1, 2])).cached
    last = out.getvalue().rsplit("\x1b[?25l", 1)[-1]  # the final frame
    assert "SumOfSquares" in last and "1 cached" in last
    assert live.nodes["Square"].finished == 0 and "Square" not in live._tasks
