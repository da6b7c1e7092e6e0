"""Tasks that record every execution as a file, so tests count how many jobs really ran."""

from __future__ import annotations

import os
import uuid

from plait import python


@python.define
def Flaky(x: int, log_dir: str, bad: int = -1) -> int:
    """2 * x; fails for x == bad until ``log_dir/../fixed`` exists. Logs each execution."""
    with open(os.path.join(log_dir, f"{x}.{uuid.uuid4().hex}"), "w"):
        pass
    if x == bad and not os.path.exists(os.path.join(os.path.dirname(log_dir), "fixed")):
        raise ValueError(f"element {x} is broken")
    return 2 * x


@python.define
def FailsOnce(x: int, log_dir: str, bad: int = -1) -> int:
    """x + 1; for x == bad fails on the first execution only. Logs each execution."""
    with open(os.path.join(log_dir, f"{x}.{uuid.uuid4().hex}"), "w"):
        pass
    flag = os.path.join(os.path.dirname(log_dir), f"failed-once-{x}")
    if x == bad and not os.path.exists(flag):
        open(flag, "w").close()
        raise RuntimeError(f"transient failure of element {x}")
    return x + 1


@python.define
def CountedSum(xs: list[int], log_dir: str, name: str = "sum") -> int:
    """sum(xs); logs each execution as ``log_dir/<name>.<uuid>``."""
    with open(os.path.join(log_dir, f"{name}.{uuid.uuid4().hex}"), "w"):
        pass
    return sum(xs)


@python.define
def CountedInc(x: int, log_dir: str, name: str = "inc") -> int:
    """x + 1; logs each execution as ``log_dir/<name>.<uuid>``."""
    with open(os.path.join(log_dir, f"{name}.{uuid.uuid4().hex}"), "w"):
        pass
    return x + 1


@python.define
def Marked(x: int, log_dir: str, seconds: float = 0.0) -> int:
    """x * x after ``seconds``; writes ``start-<x>.<uuid>`` and ``done-<x>.<uuid>`` markers.

    Each marker holds the time it was written, so a test can tell a job that
    ran again after it had finished from one that was interrupted and rerun.
    """
    import time

    with open(os.path.join(log_dir, f"start-{x}.{uuid.uuid4().hex}"), "w") as f:
        f.write(repr(time.time()))
    time.sleep(seconds)
    with open(os.path.join(log_dir, f"done-{x}.{uuid.uuid4().hex}"), "w") as f:
        f.write(repr(time.time()))
    return x * x


@python.define
def Stamp(x: int, log_dir: str, tag: str, late: int = -1) -> int:
    """x; writes ``<tag>-<x>.<uuid>`` holding the time it finished.

    For ``x == late`` the first attempt fails: under ``dag.test()``, which
    runs task instances one at a time, a retried element is a slow element.
    """
    import time

    flag = os.path.join(log_dir, f"late-{tag}-{x}")
    if x == late and not os.path.exists(flag):
        open(flag, "w").close()
        raise RuntimeError(f"{tag}[x={x}] is late")
    with open(os.path.join(log_dir, f"{tag}-{x}.{uuid.uuid4().hex}"), "w") as f:
        f.write(repr(time.time()))
    return x


@python.define
def Shout(s: str, bad: str = "") -> str:
    """``s`` in capitals; fails for ``s == bad``."""
    if s == bad:
        raise ValueError(f"cannot shout {s!r}")
    return s.upper()
