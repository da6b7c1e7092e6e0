"""The job cache: reuse, content hashing of files, concurrency, crashes, locks (docs/design.md §4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from core_tasks import CALLS_DIR_ENV, Copy, TenToThePower, calls, job_dirs

from plait import Submitter, TaskHooks, load_result, python
from plait.cache import LOCK_FILE, JobLock
from plait.filehash import FileHashCache, set_file_hash_cache

HERE = Path(__file__).parent
CORE_SRC = HERE.parent.parent / "core" / "src"


def test_ten_to_the_power_cached_on_second_run(cache: Path, worker: str, call_log: Path) -> None:
    with Submitter(worker=worker, cache_root=cache) as sub:
        first = sub(TenToThePower(p=3))
    assert first.outputs.out == 1000 and not first.errored
    with Submitter(worker=worker, cache_root=cache) as sub:
        second = sub(TenToThePower(p=3))
    assert second.outputs.out == 1000
    assert second.cache_dir == first.cache_dir
    assert first.cache_dir is not None and first.cache_dir.name.startswith("python-")
    assert calls(call_log) == ["TenToThePower:3"]


def test_result_records_runtime(cache: Path) -> None:
    result = Submitter(cache_root=cache)(TenToThePower(p=2))
    assert result.runtime.wall > 0
    assert result.runtime.peak_rss > 1_000_000
    job = load_result(result.cache_dir)  # type: ignore[arg-type]
    assert job is not None and job.outputs == {"out": 100} and job.cached


@pytest.fixture
def file_hashes(tmp_path: Path):
    cache = FileHashCache(tmp_path / "file-hashes")
    previous = set_file_hash_cache(cache)
    yield cache
    set_file_hash_cache(previous)


def _old(path: Path, age: float = 10.0) -> None:
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))


def test_shell_copy_cache_follows_content_not_name(
    cache: Path, tmp_path: Path, file_hashes: FileHashCache
) -> None:
    src = tmp_path / "a.txt"
    src.write_text("hello")
    _old(src)
    first = Submitter(cache_root=cache)(Copy(in_file=src))

    renamed = tmp_path / "renamed.txt"
    src.rename(renamed)
    again = Submitter(cache_root=cache)(Copy(in_file=renamed))
    assert again.cache_dir == first.cache_dir

    renamed.write_text("other content")
    _old(renamed, 5)
    changed = Submitter(cache_root=cache)(Copy(in_file=renamed))
    assert changed.cache_dir != first.cache_dir
    assert Path(changed.outputs.out_file.fspath).read_text() == "other content"

    reads = file_hashes.files_read
    _old(renamed, 2)  # touched: new mtime, same content
    touched = Submitter(cache_root=cache)(Copy(in_file=renamed))
    touched_again = Submitter(cache_root=cache)(Copy(in_file=renamed))
    assert touched.cache_dir == changed.cache_dir == touched_again.cache_dir
    assert file_hashes.files_read - reads <= 1


def test_other_output_name_is_another_job(cache: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("x")
    a = Submitter(cache_root=cache)(Copy(in_file=src))
    b = Submitter(cache_root=cache)(Copy(in_file=src, out_file="renamed.txt"))
    assert a.cache_dir != b.cache_dir
    assert Path(b.outputs.out_file.fspath).name == "renamed.txt"


RACE_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path[:0] = [{tests!r}, {src!r}]
    from plait import Submitter
    from core_tasks import Sleep
    start = float(sys.argv[1])
    while time.time() < start:
        time.sleep(0.001)
    result = Submitter(cache_root=sys.argv[2])(Sleep(seconds=1.0, tag="race"))
    print(result.outputs.out, result.cache_dir)
    """
)


def test_two_processes_same_job_run_it_once(cache: Path, tmp_path: Path) -> None:
    script = tmp_path / "race.py"
    script.write_text(RACE_SCRIPT.format(tests=str(HERE), src=str(CORE_SRC)))
    log = tmp_path / "calls.txt"
    env = {**os.environ, CALLS_DIR_ENV: str(log)}
    start = str(time.time() + 1.0)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), start, str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0] and outs[0][0].startswith("1.0 ")
    assert calls(log) == ["Sleep:race"]


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{tests!r}, {src!r}]
    from plait import Submitter
    from core_tasks import WaitFor
    Submitter(cache_root=sys.argv[1])(WaitFor(path=sys.argv[2]))
    """
)


def test_sigkill_mid_job_leaves_nothing_taken_as_a_result(cache: Path, tmp_path: Path) -> None:
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT.format(tests=str(HERE), src=str(CORE_SRC)))
    log = tmp_path / "calls.txt"
    env = {**os.environ, CALLS_DIR_ENV: str(log)}
    go = tmp_path / "go"
    proc = subprocess.Popen([sys.executable, str(script), str(cache), str(go)], env=env)
    deadline = time.time() + 30
    while "WaitFor" not in calls(log) and time.time() < deadline:
        time.sleep(0.05)
    assert calls(log) == ["WaitFor"]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (job_dir,) = list(cache.iterdir())
    assert load_result(job_dir) is None
    assert (job_dir / LOCK_FILE).exists()  # the dead owner's lock is left behind

    from core_tasks import WaitFor

    go.write_text("go")
    os.environ[CALLS_DIR_ENV] = str(log)
    try:
        result = Submitter(cache_root=cache)(WaitFor(path=str(go)))
    finally:
        del os.environ[CALLS_DIR_ENV]
    assert result.outputs.out == str(go) and not result.errored
    assert calls(log) == ["WaitFor", "WaitFor"]  # the rerun ran the job (no hang on the lock)
    assert job_dirs(cache) == {job_dir.name}


def test_empty_or_foreign_lock_expires_after_its_lease(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import plait.locks as cache_mod

    job_dir = cache / "python-x"
    job_dir.mkdir()
    lock_path = job_dir / LOCK_FILE
    lock_path.write_text("")  # empty, as a crashed foreign tool might leave it
    monkeypatch.setattr(cache_mod, "LOCK_LEASE", 0.5)
    t0 = time.monotonic()
    lock = JobLock(str(job_dir))
    assert lock.acquire() is True
    assert 0.3 < time.monotonic() - t0 < 10
    owner = json.loads(lock_path.read_text().splitlines()[0])
    assert owner["pid"] == os.getpid()
    lock.release()
    assert not lock_path.exists()


def test_lock_of_dead_pid_on_this_host_is_taken_at_once(cache: Path) -> None:
    import socket

    job_dir = cache / "python-y"
    job_dir.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    owner = {"pid": dead.pid, "host": socket.gethostname(), "time": time.time()}
    (job_dir / LOCK_FILE).write_text(json.dumps(owner) + "\n")
    t0 = time.monotonic()
    lock = JobLock(str(job_dir), max_wait=5)
    lock.acquire()
    assert time.monotonic() - t0 < 1
    lock.release()


def test_live_lock_waits_with_a_bound(cache: Path) -> None:
    job_dir = cache / "python-z"
    job_dir.mkdir()
    held = JobLock(str(job_dir))
    held.acquire()
    with pytest.raises(TimeoutError):
        JobLock(str(job_dir), max_wait=0.2).acquire()
    held.release()


def test_failures_are_recorded_and_never_served_as_success(cache: Path, tmp_path: Path) -> None:
    flag = tmp_path / "fail"
    flag.write_text("1")

    @python.define
    def Flaky(path: str) -> int:
        if Path(path).read_text() == "1":
            raise RuntimeError("flaky failure")
        return 7

    first = Submitter(cache_root=cache)(Flaky(path=str(flag)))
    assert first.errored and first.errors[0].type == "RuntimeError"
    assert "flaky failure" in first.errors[0].traceback
    (job_dir,) = list(cache.iterdir())
    record = json.loads((job_dir / "error.json").read_text())
    assert record[0]["message"] == "flaky failure"
    flag.write_text("0")
    second = Submitter(cache_root=cache)(Flaky(path=str(flag)))
    assert not second.errored and second.outputs.out == 7
    assert not (job_dir / "error.json").exists()


def test_readonly_caches_are_consulted_first(tmp_path: Path, call_log: Path) -> None:
    ro = tmp_path / "ro"
    Submitter(cache_root=ro)(TenToThePower(p=5))
    rw = tmp_path / "rw"
    result = Submitter(cache_root=rw, readonly_caches=[ro])(TenToThePower(p=5))
    assert result.outputs.out == 100000
    assert calls(call_log) == ["TenToThePower:5"]


def test_hooks_are_called_at_their_moments(cache: Path) -> None:
    seen: list[str] = []
    hooks = TaskHooks(
        pre_run=lambda graph: seen.append(f"pre_run:{graph.name}"),
        pre_run_task=lambda job: seen.append(f"pre_task:{job.label}"),
        post_run_task=lambda job, res: seen.append(f"post_task:{job.label}:{res.outputs['out']}"),
        post_run=lambda res: seen.append(f"post_run:{res.outputs.out}"),
    )
    Submitter(cache_root=cache, hooks=hooks)(TenToThePower().split(p=[1, 2]))
    assert seen == [
        "pre_run:TenToThePower",
        "pre_task:TenToThePower[p=1]",
        "pre_task:TenToThePower[p=2]",
        "post_task:TenToThePower[p=1]:10",
        "post_task:TenToThePower[p=2]:100",
        "post_run:[10, 100]",
    ]


def test_unknown_worker_lists_installed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown worker 'nope'.*cf.*debug"):
        Submitter(worker="nope")


def test_default_cache_root_is_per_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from plait.cache import default_cache_root

    monkeypatch.delenv("PLAIT_CACHE_ROOT", raising=False)
    assert "plait" in str(default_cache_root())
    monkeypatch.setenv("PLAIT_CACHE_ROOT", str(tmp_path))
    assert default_cache_root() == tmp_path
