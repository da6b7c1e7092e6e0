"""The cf pool under faults: driver killed, a pool process killed, sys.exit, timeouts (issue 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rel_tasks import Exit, Interrupt, KillSelf, Sleep, SleepLimited, marks

from plait import Submitter

HERE = Path(__file__).parent
pytestmark = pytest.mark.timeout(120)  # a pool that outlives its driver would hang here


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


DRIVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {here!r})
    from plait import Submitter
    from rel_tasks import Sleep
    print("started", flush=True)
    with Submitter(worker="cf", n_procs=2, cache_root=sys.argv[1]) as sub:
        sub(Sleep(tag="q").split(seconds=[30.0 + i / 100 for i in range(8)]))
    """
)


def test_pool_processes_die_with_a_killed_driver(tmp_path: Path, marks_file: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(here=str(HERE)))
    driver = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "cache")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert driver.stdout is not None
    assert driver.stdout.readline().strip() == b"started"
    deadline = time.time() + 30
    while len(marks(marks_file)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    pool = _children(driver.pid)
    assert len(pool) == 2
    driver.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    driver.wait()
    rest = driver.stdout.read()  # EOF only once no pool process holds the driver's stdout
    assert time.monotonic() - killed < 2, rest
    while any(_alive(p) for p in pool) and time.monotonic() - killed < 5:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pool)
    assert time.monotonic() - killed < 2
    assert len(marks(marks_file)) == 2  # no queued job ran after the driver died


def test_killed_pool_process_fails_only_its_own_job(cache: Path, marks_file: Path) -> None:
    with Submitter(worker="cf", n_procs=2, cache_root=cache) as sub:
        result = sub(KillSelf(bad=3).split(x=list(range(10))))
    assert result.errored and len(result.errors) == 1
    error = result.errors[0]
    assert error.job == "KillSelf[x=3]" and "died (signal 9)" in error.message
    assert "BrokenProcessPool" not in error.message
    assert result.outputs.out[:3] == [0, 1, 2] and result.outputs.out[4:] == list(range(4, 10))
    assert sorted(marks(marks_file)) == sorted(f"KillSelf:{x}" for x in range(10) if x != 3)


@pytest.mark.parametrize("worker", ["debug", "cf"])
def test_sys_exit_in_a_task_fails_only_that_job(cache: Path, worker: str) -> None:
    with Submitter(worker=worker, cache_root=cache) as sub:
        result = sub(Exit().split(code=[0, 3, 0 + 0]))
    assert result.errored and len(result.errors) == 1
    assert result.errors[0].type == "SystemExit" and result.errors[0].job == "Exit[code=3]"
    assert result.outputs.out[0] == 0


def test_keyboard_interrupt_raised_by_a_task_fails_only_that_job_on_cf(cache: Path) -> None:
    with Submitter(worker="cf", n_procs=2, cache_root=cache) as sub:
        result = sub(Interrupt().split(x=[0, 1, 2]))
    assert len(result.errors) == 1 and result.errors[0].type == "KeyboardInterrupt"
    assert result.outputs.out[0] == 0 and result.outputs.out[2] == 2


def test_timeout_on_the_definition_stops_the_job(cache: Path) -> None:
    t0 = time.monotonic()
    with Submitter(worker="cf", n_procs=2, cache_root=cache) as sub:
        result = sub(SleepLimited().split(seconds=[60.0, 0.1]))
    assert time.monotonic() - t0 < 5
    assert len(result.errors) == 1
    assert (
        result.errors[0].type == "TimeoutError"
        and "timed out after 1 s" in result.errors[0].message
    )
    assert result.outputs.out[1] == 0.1
    assert not list(cache.glob("*/.lock"))  # its lock is taken over on the next run at once


def test_timeout_on_the_submitter_stops_the_job(cache: Path) -> None:
    t0 = time.monotonic()
    with Submitter(worker="cf", n_procs=1, cache_root=cache, timeout=1) as sub:
        result = sub(Sleep(tag="t").split(seconds=[60.0, 0.2]))
    assert time.monotonic() - t0 < 5
    assert [e.type for e in result.errors] == ["TimeoutError"]
    assert result.outputs.out[1] == 0.2
    again = Submitter(worker="cf", n_procs=1, cache_root=cache)(Sleep(seconds=0.2, tag="t"))
    assert again.outputs.out == 0.2
