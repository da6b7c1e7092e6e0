"""Tasks and helpers of the reliability suite (importable, so subprocesses see them)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from plait import python, shell, workflow

MARKS_ENV = "PLAIT_REL_MARKS"


def mark(tag: str) -> None:
    """Append ``tag pid`` to the marks file named by $PLAIT_REL_MARKS (counts executions)."""
    target = os.environ.get(MARKS_ENV)
    if target:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{tag} {os.getpid()}\n".encode())
        finally:
            os.close(fd)


def marks(path: Path) -> list[str]:
    """The tags recorded, one per execution."""
    if not path.exists():
        return []
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


@python.define
def Square(x: int, pause: float = 0.0) -> int:
    """x * x, recording each execution; sleeps ``pause`` seconds."""
    mark(f"Square:{x}")
    if pause:
        time.sleep(pause)
    return x * x


@python.define
def Exit(code: int) -> int:
    """Calls sys.exit(code) for a non-zero code."""
    import sys

    if code:
        sys.exit(code)
    return code


@python.define
def Interrupt(x: int) -> int:
    """Raises KeyboardInterrupt for x == 1."""
    if x == 1:
        raise KeyboardInterrupt
    return x


@python.define
def Sleep(seconds: float, tag: str = "") -> float:
    """Sleeps, recording each execution."""
    mark(f"Sleep:{tag}")
    time.sleep(seconds)
    return seconds


@python.define
def Unpicklable(x: int) -> object:
    """Returns an object no serialiser can store (a lock)."""
    import threading

    mark(f"Unpicklable:{x}")
    return threading.Lock()


@python.define
def Big(n: int) -> bytes:
    """n bytes."""
    return b"\x01" * n


class Opaque:
    """A type that is not plain data (stored as an authenticated pickle)."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.v == self.v


@python.define
def MakeOpaque(v: int) -> object:
    """An Opaque(v), recording each execution."""
    mark(f"MakeOpaque:{v}")
    return Opaque(v)


@python.define
def PidOf(x: int, pause: float = 0.0) -> int:
    """The pid of the process that ran it."""
    if pause:
        time.sleep(pause)
    return os.getpid()


Copy = shell.define("cp <in_file:generic/file> <out|out_file:generic/file>")


@python.define
def KillSelf(x: int, bad: int = 3, pause: float = 0.2) -> int:
    """Returns x after ``pause`` s; the job with x == bad SIGKILLs its own process."""
    import signal

    if x == bad:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(pause)
    mark(f"KillSelf:{x}")
    return x


@python.define(timeout=1)
def SleepLimited(seconds: float) -> float:
    """Sleeps; its definition allows at most 1 s."""
    time.sleep(seconds)
    return seconds


@python.define
def Inc(y: int, pause: float = 0.0) -> int:
    """y + 1, recording each execution."""
    mark(f"Inc:{y}")
    if pause:
        time.sleep(pause)
    return y + 1


@python.define
def Total(ys: list[int]) -> int:
    """Sum, recording each execution."""
    mark(f"Total:{len(ys)}")
    return sum(ys)


@workflow.define
def Chain(xs: list[int], pause: float) -> int:
    """Square each x, add one to each square, sum: 2 n + 1 jobs."""
    sq = workflow.add(Square(pause=pause).split(x=xs))
    inc = workflow.add(Inc(y=sq.out, pause=pause).combine("Square.x"))
    total = workflow.add(Total(ys=inc.out))
    return total.out
