"""A Dask worker process killed mid-run (issue 4, item 4).

The run completes with correct results, and no job that had finished runs
again: Dask reschedules the tasks of the dead worker and recomputes the
finished results it held that later jobs still need, and each of those calls
:func:`plait.run_job`, which finds the finished job in the cache.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from dask_tasks import CountedChain

from plait import Progress, Submitter

N = 100  # 100 Counted + 100 CountedNext = 200 jobs


@pytest.mark.timeout(300)
def test_killed_worker_no_finished_job_runs_twice(cache: Path, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    markers = tmp_path / "markers"
    markers.mkdir()
    killed: dict[str, Any] = {}

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):

        def kill_one_worker(event: Progress) -> None:
            # mid-way through the second node: the dead worker held finished
            # Counted results that pending CountedNext jobs depend on
            if killed or event.status != "finished" or event.done < N + N // 3:
                return
            pids = client.run(os.getpid)
            address, pid = sorted(pids.items())[0]
            os.kill(pid, signal.SIGKILL)
            killed.update(address=address, pid=pid, done=event.done)

        with Submitter(
            worker="dask", client=client, cache_root=cache, progress=kill_one_worker, retries=2
        ) as sub:
            result = sub(CountedChain(xs=list(range(N)), marker_dir=str(markers), seconds=0.03))

    assert killed, "the worker was never killed"
    assert not result.errored, result.errors
    assert result.outputs.out == [(x + 1000) * 2 for x in range(N)]

    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    on_killed: set[str] = set()
    for marker in os.listdir(markers):
        name, what, pid, _ = marker.split(".")
        (starts if what == "start" else ends)[name] += 1
        if int(pid) == killed["pid"]:
            on_killed.add(name)
    names = {f"Counted-{x}" for x in range(N)} | {f"CountedNext-{x + 1000}" for x in range(N)}
    assert set(ends) == names  # every job finished ...
    # ... exactly once, but for the one job in flight on the killed single-threaded worker:
    # its function may have returned (end marker written) before its result was committed
    ran_twice = {n: c for n, c in ends.items() if c > 1}
    assert len(ran_twice) <= 1 and set(ran_twice) <= on_killed, f"jobs ran again: {ran_twice}"
    assert all(c == 2 for c in ran_twice.values())
    # at most one execution was cut short or repeated: that same in-flight job
    assert sum(starts.values()) - len(names) <= 1
