"""The lock protocol under races, dead owners, reused pids and failed commits (issue 11)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rel_tasks import MARKS_ENV, Square, Unpicklable, marks

import plait.locks as locks
from plait import Submitter, compile, run_job
from plait.cache import LOCK_FILE, load_result

HERE = Path(__file__).parent


def _job_dirs(root: Path, n: int) -> list[Path]:
    graph = compile(Square().split(x=list(range(n))), cache_root=root)
    (name,) = graph.nodes
    jobs, _ = graph.expand(name, {})
    return [Path(j.cache_dir) for j in jobs]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _owner(pid: int, start: int | None, **extra: object) -> str:
    info = {
        "pid": pid,
        "host": locks._HOST,
        "boot": locks._BOOT,
        "ns": locks._PIDNS,
        "start": start,
        "time": time.time(),
        "token": os.urandom(4).hex(),
    }
    info.update(extra)
    return json.dumps(info) + "\n"


def _seed_dead_locks(dirs: list[Path], rng: random.Random) -> dict[str, int]:
    """A dead owner's lock in every dir, of every kind the protocol must take over."""
    dead = _dead_pid()
    kinds = {"dead pid": 0, "reused pid": 0, "old format": 0, "empty": 0, "other boot": 0}
    live_start = locks.process_start_time(os.getpid())
    assert live_start is not None
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
        kind = rng.choice(sorted(kinds))
        kinds[kind] += 1
        lock = d / LOCK_FILE
        if kind == "dead pid":
            lock.write_text(_owner(dead, 12345))
        elif kind == "reused pid":  # this live test process, another start time
            lock.write_text(_owner(os.getpid(), live_start + 1))
        elif kind == "old format":
            lock.write_text(json.dumps({"pid": dead, "host": locks._HOST, "time": 1.0}) + "\n")
        elif kind == "other boot":
            lock.write_text(_owner(1, 1, boot="another-boot"))
        else:
            lock.write_text("")
        if kind in ("empty", "other boot"):
            old = time.time() - 3600
            os.utime(lock, (old, old))
    return kinds


def _run_many(root: Path, n: int, procs: int, delay: float, env: dict[str, str]) -> list[str]:
    runners = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "stress_runner.py"),
                str(root),
                str(n),
                str(seed),
                str(delay),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        for seed in range(procs)
    ]
    outs = []
    for r in runners:
        out, _ = r.communicate(timeout=600)
        outs.append(f"rc={r.returncode} {out}")
        assert r.returncode == 0, out[-3000:]
    return outs


@pytest.mark.slow
def test_eight_processes_on_300_dead_locks_run_each_job_once(cache: Path, tmp_path: Path) -> None:
    n = 300
    dirs = _job_dirs(cache, n)
    kinds = _seed_dead_locks(dirs, random.Random(1))
    assert all(kinds.values()), kinds
    log = tmp_path / "marks.txt"
    env = {**os.environ, MARKS_ENV: str(log)}
    _run_many(cache, n, procs=8, delay=0.002, env=env)
    counts: dict[str, int] = {}
    for tag in marks(log):
        counts[tag] = counts.get(tag, 0) + 1
    assert sorted(counts) == sorted(f"Square:{x}" for x in range(n))
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    for d in dirs:
        result = load_result(d)
        assert result is not None
        assert not (d / LOCK_FILE).exists()
        assert not [e for e in os.listdir(d) if e.startswith(".lock")]


@pytest.mark.slow
def test_racing_processes_with_random_delays_no_dead_locks(cache: Path, tmp_path: Path) -> None:
    n = 120
    log = tmp_path / "marks.txt"
    env = {**os.environ, MARKS_ENV: str(log)}
    _run_many(cache, n, procs=6, delay=0.003, env=env)
    tags = marks(log)
    assert sorted(tags) == sorted(f"Square:{x}" for x in range(n))


DRIVER = """
import sys
sys.path.insert(0, {here!r})
from plait import Submitter
from rel_tasks import Chain
n = int(sys.argv[4])
res = Submitter(worker=sys.argv[2], cache_root=sys.argv[1], **({kw}))(
    Chain(xs=list(range(n)), pause=float(sys.argv[3]))
)
assert not res.errored, res.errors
assert res.outputs.out == sum(x * x + 1 for x in range(n))
"""


@pytest.mark.slow
@pytest.mark.parametrize("worker", ["debug", "cf"])
def test_four_drivers_resuming_a_killed_workflow_run_each_job_once(
    cache: Path, tmp_path: Path, worker: str
) -> None:
    n = 40  # a workflow of 2 n + 1 jobs: Square split, Inc per element, Total
    script = tmp_path / "driver.py"
    kw = "{'n_procs': 2}" if worker == "cf" else "{}"
    script.write_text(DRIVER.format(here=str(HERE), kw=kw))
    log = tmp_path / "marks.txt"
    env = {**os.environ, MARKS_ENV: str(log)}
    first = subprocess.Popen(
        [sys.executable, str(script), str(cache), worker, "0.05", str(n)],
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while len(marks(log)) < n // 2 and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)  # the driver and its pool
    first.wait()
    time.sleep(0.2)
    before = marks(log)
    done_before = {p.parent.name for p in cache.glob("python-*/result.pkl")}
    assert 0 < len(done_before) < 2 * n + 1
    drivers = [
        subprocess.Popen(
            [sys.executable, str(script), str(cache), worker, "0.05", str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    for d in drivers:
        out, _ = d.communicate(timeout=300)
        assert d.returncode == 0, out[-3000:]
    after = marks(log)[len(before) :]
    # every job without a result before the resume ran exactly once after it
    assert len(after) == len(set(after)), sorted(t for t in after if after.count(t) > 1)
    assert len(after) == 2 * n + 1 - len(done_before)
    assert len({p.parent.name for p in cache.glob("python-*/result.pkl")}) == 2 * n + 1


def test_lock_of_reused_pid_is_taken_over_at_once(cache: Path) -> None:
    job_dir = cache / "python-reused"
    job_dir.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = locks.process_start_time(sleeper.pid)
        assert start is not None
        # the pid is alive, but the owner that wrote the lock started at another time
        (job_dir / LOCK_FILE).write_text(_owner(sleeper.pid, start - 5))
        t0 = time.monotonic()
        lock = locks.JobLock(str(job_dir), max_wait=30)
        lock.acquire()
        assert time.monotonic() - t0 < 1
        lock.release()
        # the same pid with its own start time is a live owner: waited on
        (job_dir / LOCK_FILE).write_text(_owner(sleeper.pid, start))
        with pytest.raises(TimeoutError):
            locks.JobLock(str(job_dir), max_wait=0.3).acquire()
    finally:
        sleeper.kill()
        sleeper.wait()
    # owner dead now: taken over at once
    lock = locks.JobLock(str(job_dir), max_wait=5)
    lock.acquire()
    lock.release()


def test_lock_from_another_container_or_boot_expires_with_its_lease(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locks, "LOCK_LEASE", 0.5)
    job_dir = cache / "python-container"
    job_dir.mkdir()
    # pid 1 is alive here, but the lock comes from another pid namespace (a restarted container)
    (job_dir / LOCK_FILE).write_text(_owner(1, 1, ns="pid:[1]"))
    t0 = time.monotonic()
    lock = locks.JobLock(str(job_dir), max_wait=10)
    lock.acquire()
    assert 0.3 < time.monotonic() - t0 < 5
    lock.release()


def test_failed_commit_leaves_no_lock_and_the_job_runs_again(cache: Path, marks_file: Path) -> None:
    for _ in range(2):  # the same job twice in this process: no hang on a leaked lock
        result = Submitter(cache_root=cache)(Unpicklable(x=1))
        assert result.errored
        assert "cannot store the result" in result.errors[0].message
        (job_dir,) = cache.glob("python-*")
        assert not (job_dir / LOCK_FILE).exists()
        assert load_result(job_dir) is None
    assert marks(marks_file) == ["Unpicklable:1", "Unpicklable:1"]
    with Submitter(worker="cf", n_procs=1, cache_root=cache) as sub:
        again = sub(Unpicklable(x=1))
    assert again.errored and "cannot store the result" in again.errors[0].message
    assert not (job_dir / LOCK_FILE).exists()


def test_release_never_removes_another_owners_lock(cache: Path) -> None:
    job_dir = cache / "python-steal"
    job_dir.mkdir()
    lock = locks.JobLock(str(job_dir))
    lock.acquire()
    lock._since -= locks.LOCK_LEASE  # held for a lease: another host may judge it abandoned
    os.unlink(job_dir / LOCK_FILE)  # as if taken over by such a host
    other = locks.JobLock(str(job_dir))
    other.acquire()
    lock.release()
    assert (job_dir / LOCK_FILE).exists()  # still the other's
    other.release()
    assert not (job_dir / LOCK_FILE).exists()


def test_publish_never_publishes_another_owners_lock(cache: Path) -> None:
    job_dir = cache / "python-publish"
    job_dir.mkdir()
    lock = locks.JobLock(str(job_dir))
    lock.acquire()
    lock._since -= locks.LOCK_LEASE
    os.unlink(job_dir / LOCK_FILE)
    other = locks.JobLock(str(job_dir))
    other.acquire()
    assert lock.publish([b"my result"], str(job_dir / "result.pkl")) is False
    assert not (job_dir / "result.pkl").exists()
    lock.release()
    other.release()


def test_process_delayed_before_its_lock_reuses_the_result(cache: Path, marks_file: Path) -> None:
    graph = compile(Square(x=3), cache_root=cache)
    (name,) = graph.nodes
    (job,), _ = graph.expand(name, {})
    Path(job.cache_dir).mkdir()  # made by a process that then stalls
    assert run_job(job).outputs == {"out": 9}  # another process runs and commits meanwhile
    from plait.run import execute_job

    again = execute_job(job)  # the stalled one wakes up and takes the lock
    assert again.outputs == {"out": 9} and again.cached
    assert marks(marks_file) == ["Square:3"]


def test_failed_commit_on_a_dask_cluster_leaves_no_lock(cache: Path, marks_file: Path) -> None:
    pytest.importorskip("plait_dask", reason="the Dask adapter is not installed in this env")
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        for _ in range(2):  # the same job twice on the same cluster: no hang on a leaked lock
            t0 = time.monotonic()
            with Submitter(worker="dask", client=client, cache_root=cache) as sub:
                result = sub(Unpicklable(x=2))
            assert time.monotonic() - t0 < 30
            assert result.errored and "cannot store the result" in result.errors[0].message
            assert not list(cache.glob("*/.lock"))
    # each run ran the job (no answer from Dask's memory of the first run)
    assert marks(marks_file) == ["Unpicklable:2", "Unpicklable:2"]
    again = Submitter(cache_root=cache)(Unpicklable(x=2))  # runs at once: no lock was left
    assert again.errored and len(marks(marks_file)) == 3
