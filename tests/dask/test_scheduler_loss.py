"""The Dask scheduler killed mid-run (issue 11, item 10 / must-hold 9).

The run ends with one plait error naming the jobs that were unfinished (not a
raw ``ClosedClientError`` after the client's reconnect timeout), and a rerun
on a new ``LocalCluster`` with the same cache runs only those jobs: every
finished job is read from the cache (counted by marker files).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask_tasks import CountedChain

from plait import Progress, Submitter
from plait.errors import PlaitError
from plait_dask import SchedulerLostError

HERE = Path(__file__).parent
N = 40  # 40 Counted + 40 CountedNext


def _ended(markers: Path) -> Counter[str]:
    ends: Counter[str] = Counter()
    for marker in os.listdir(markers):
        name, what, _pid, _ = marker.split(".")
        if what == "end":
            ends[name] += 1
    return ends


def _started(markers: Path) -> set[str]:
    return {m for m in os.listdir(markers) if m.split(".")[1] == "start"}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process this test started, and its process group (its worker processes)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)


@pytest.fixture
def scheduler_and_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A ``dask scheduler`` process and 2 single-threaded ``dask worker`` processes."""
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    common = {"env": env, "start_new_session": True, "stdout": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            ":0",
            "--scheduler-file",
            str(scheduler_file),
        ],
        stderr=open(tmp_path / "scheduler.log", "wb"),
        **common,  # type: ignore[arg-type]
    )
    workers = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            "--scheduler-file",
            str(scheduler_file),
            "--nworkers",
            "2",
            "--nthreads",
            "1",
            "--death-timeout",
            "10",
        ],
        stderr=open(tmp_path / "workers.log", "wb"),
        **common,  # type: ignore[arg-type]
    )
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scheduler_file.exists(), (tmp_path / "scheduler.log").read_text()
        yield scheduler, str(scheduler_file)
    finally:
        _stop(workers)
        _stop(scheduler)


@pytest.mark.timeout(300)
def test_scheduler_killed_mid_run_one_plait_error_and_the_rerun_runs_only_the_rest(
    scheduler_and_workers: tuple[subprocess.Popen[bytes], str], cache: Path, tmp_path: Path
) -> None:
    from distributed import Client, LocalCluster

    scheduler, scheduler_file = scheduler_and_workers
    markers = tmp_path / "markers"
    markers.mkdir()
    defn = CountedChain(xs=list(range(N)), marker_dir=str(markers), seconds=0.05)

    def kill_the_scheduler(event: Progress) -> None:
        if event.status == "finished" and event.done >= N // 2 and scheduler.poll() is None:
            scheduler.send_signal(signal.SIGKILL)
            scheduler.wait()

    client = Client(scheduler_file=scheduler_file)
    client.wait_for_workers(2, timeout=60)
    try:
        with (
            pytest.raises(SchedulerLostError) as info,
            Submitter(
                worker="dask", client=client, cache_root=cache, progress=kill_the_scheduler
            ) as sub,
        ):
            sub(defn)
    finally:
        client.close(timeout=5)
    error = info.value
    assert isinstance(error, PlaitError)
    assert scheduler.poll() is not None, "the scheduler was never killed"
    message = str(error)
    assert "lost its connection to the Dask scheduler" in message
    assert error.unfinished, message
    for label in error.unfinished[:5]:
        assert label in message
    assert all(label.startswith(("Counted[", "CountedNext[")) for label in error.unfinished)

    done_before = set(_ended(markers))
    assert 0 < len(done_before) < 2 * N
    started_before = _started(markers)

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster,
        Submitter(worker="dask", cluster=cluster, cache_root=cache) as sub,
    ):
        result = sub(defn)
    assert not result.errored, result.errors
    assert result.outputs.out == [(x + 1000) * 2 for x in range(N)]

    ends = _ended(markers)
    names = {f"Counted-{x}" for x in range(N)} | {f"CountedNext-{x + 1000}" for x in range(N)}
    assert set(ends) == names
    assert not {n: c for n, c in ends.items() if c > 1}, "a finished job ran again"
    rerun = {m.split(".")[0] for m in _started(markers) - started_before}
    assert rerun and not rerun & done_before, "the rerun ran a job that had finished"
