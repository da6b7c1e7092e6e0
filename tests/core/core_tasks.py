"""Task definitions shared by the core tests (importable, so subprocesses see them)."""

from __future__ import annotations

import os
from pathlib import Path

from plait import python, shell, workflow

CALLS_DIR_ENV = "PLAIT_TEST_CALLS"


def record_call(name: str) -> None:
    """Append a line to the calls file named by $PLAIT_TEST_CALLS (counts executions)."""
    target = os.environ.get(CALLS_DIR_ENV)
    if target:
        with open(target, "a") as f:
            f.write(name + "\n")


def calls(path: Path) -> list[str]:
    """The recorded calls."""
    return path.read_text().split() if path.exists() else []


def job_dirs(root: Path) -> set[str]:
    """Names of the job directories holding a result under ``root``."""
    return {p.parent.name for p in root.glob("*/result.pkl")}


@python.define
def TenToThePower(p: int) -> int:
    """Ten to the power ``p``.

    Args:
        p: the exponent
    """
    record_call(f"TenToThePower:{p}")
    return 10**p


@python.define
def Add(a: int, b: int = 0) -> int:
    """a + b."""
    record_call(f"Add:{a}:{b}")
    return a + b


@python.define
def Mul(a: int, b: int) -> int:
    """a * b."""
    return a * b


@python.define
def Sum(xs: list[int]) -> int:
    """Sum of a list."""
    record_call(f"Sum:{len(xs)}")
    return sum(xs)


@python.define
def Identity(x: object) -> object:
    """Returns its input."""
    return x


@python.define
def Range(n: int) -> list[int]:
    """[0, 1, ..., n-1]."""
    return list(range(n))


@python.define
def FailOn(x: int, bad: int = -1) -> int:
    """Returns x, but raises for x == bad."""
    record_call(f"FailOn:{x}")
    if x == bad:
        raise ValueError(f"bad element {x}")
    return x


@python.define(outputs=["quotient", "remainder"])
def DivMod(a: int, b: int) -> tuple[int, int]:
    """divmod(a, b)."""
    return divmod(a, b)


@python.define
def Sleep(seconds: float, tag: str = "") -> float:
    """Sleeps, recording the call; returns the seconds."""
    import time

    record_call(f"Sleep:{tag}")
    time.sleep(seconds)
    return seconds


Copy = shell.define("cp <in_file:generic/file> <out|out_file:generic/file>")
Voxel = shell.define(
    "sh -c <script:str> voxel <in_file:generic/file> <voxel:int> <out|out_file:text/plain=vox>",
    name="Voxel",
)
VOXEL_SCRIPT = 'echo "$(cat "$1") $2" > "$3"'


@workflow.define(outputs=["powers", "total"])
def Powers(ps: list[int]) -> tuple[list[int], int]:
    """Powers of ten over ps, and their sum."""
    pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
    total = workflow.add(Sum(xs=pw.out))
    return pw.out, total.out


@workflow.define
def SplitPropagateCombine(xs: list[int], k: int) -> int:
    """Split node -> propagated node -> downstream combine -> reduce node."""
    a = workflow.add(Add(b=1).split(a=xs))
    m = workflow.add(Mul(a=a.out, b=k).combine("Add.a"))
    s = workflow.add(Sum(xs=m.out))
    return s.out


@workflow.define(outputs=["total", "inner"])
def Outer(xs: list[int], k: int) -> tuple[int, int]:
    """Nests SplitPropagateCombine and adds one."""
    inner = workflow.add(SplitPropagateCombine(xs=xs, k=k))
    plus = workflow.add(Add(a=inner.out, b=1))
    return plus.out, inner.out


@python.define
def WaitFor(path: str, timeout: float = 60.0) -> str:
    """Waits until ``path`` exists (at most ``timeout`` seconds), recording the call."""
    import time

    record_call("WaitFor")
    deadline = time.time() + timeout
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.02)
    return path
