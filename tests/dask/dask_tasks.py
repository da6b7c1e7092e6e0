"""Tasks of the plait-dask tests (importable by Dask worker processes)."""

from __future__ import annotations

import os
import socket
import time
import uuid

from plait import python, workflow


@python.define
def TenToThePower(p: int) -> int:
    """Ten to the power ``p``."""
    return 10**p


@python.define
def Sum(xs: list[int]) -> int:
    """Sum of a list."""
    return sum(xs)


@workflow.define(outputs=["powers", "total"])
def Powers(ps: list[int]) -> tuple[list[int], int]:
    """Powers of ten over ps, and their sum."""
    pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
    total = workflow.add(Sum(xs=pw.out))
    return pw.out, total.out


@python.define
def Range(n: int) -> list[int]:
    """[0, 1, ..., n-1]."""
    return list(range(n))


@python.define
def Identity(x: int) -> int:
    """Returns its input."""
    return x


@workflow.define
def RuntimeSplit(ns: list[int]) -> list[list[int]]:
    """A split over an upstream output: its jobs are known only at run time."""
    r = workflow.add(Range().split(n=ns))
    return workflow.add(Identity().split(x=r.out).combine("x")).out


@python.define
def Interval(tag: str, seconds: float, log_dir: str) -> str:
    """Sleeps; records its start and end (wall clock) in ``log_dir/tag``; returns tag."""
    start = time.time()
    time.sleep(seconds)
    with open(os.path.join(log_dir, tag), "w") as f:
        f.write(f"{start} {time.time()}")
    return tag


@python.define
def Concat(a: str, b: str) -> str:
    """a + '+' + b."""
    return f"{a}+{b}"


@workflow.define(outputs=["both"])
def TwoIndependent(seconds: float, log_dir: str) -> str:
    """Two nodes with no edge between them (the ewoksdask example), then one reading both."""
    a = workflow.add(Interval(tag="A", seconds=seconds, log_dir=log_dir), name="A")
    b = workflow.add(Interval(tag="B", seconds=seconds, log_dir=log_dir), name="B")
    return workflow.add(Concat(a=a.out, b=b.out)).out


def _mark(marker_dir: str, what: str, name: str) -> None:
    path = os.path.join(marker_dir, f"{name}.{what}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    with open(path, "w"):
        pass


@python.define
def Counted(x: int, marker_dir: str, seconds: float = 0.0) -> int:
    """Returns x + 1000; leaves a ``start`` and an ``end`` marker file per execution."""
    _mark(marker_dir, "start", f"Counted-{x}")
    time.sleep(seconds)
    _mark(marker_dir, "end", f"Counted-{x}")
    return x + 1000


@python.define
def CountedNext(y: int, marker_dir: str, seconds: float = 0.0) -> int:
    """Returns y * 2; leaves a ``start`` and an ``end`` marker file per execution."""
    _mark(marker_dir, "start", f"CountedNext-{y}")
    time.sleep(seconds)
    _mark(marker_dir, "end", f"CountedNext-{y}")
    return y * 2


@workflow.define
def CountedChain(xs: list[int], marker_dir: str, seconds: float) -> list[int]:
    """Counted over xs, then CountedNext on each element (200 + 200 jobs for 200 xs)."""
    a = workflow.add(Counted(marker_dir=marker_dir, seconds=seconds).split(x=xs))
    return workflow.add(CountedNext(y=a.out, marker_dir=marker_dir, seconds=seconds)).out


@python.define(cpus=1, memory="100MB")
def Small(x: int) -> int:
    """Needs one CPU and 100 MB."""
    return x + 1


@python.define(cpus=64)
def Huge(x: int) -> int:
    """Needs 64 CPUs: fits no test machine's worker."""
    return x


@python.define(cpus=2, memory="1GB")
def Sized(x: int) -> int:
    """Needs 2 CPUs and 1 GB."""
    return x


@python.define(outputs=["value", "slurm_job_id", "host"], cpus=1, memory="200MB")
def WhereAmI(x: int, seconds: float = 0.0) -> tuple[int, str, str]:
    """x squared, and the SLURM job (if any) and host that ran it; needs 1 CPU, 200 MB."""
    time.sleep(seconds)
    return x * x, os.environ.get("SLURM_JOB_ID", ""), socket.gethostname()


@python.define
def Trivial(x: int) -> int:
    """x + 1 (the benchmark's job)."""
    return x + 1


@python.define
def Add(a: int, b: int = 0) -> int:
    """a + b."""
    return a + b


@python.define
def Mul(a: int, b: int) -> int:
    """a * b."""
    return a * b


@python.define
def FailOn(x: int, bad: int = -1) -> int:
    """Returns x, but raises for x == bad."""
    if x == bad:
        raise ValueError(f"bad element {x}")
    return x


@workflow.define
def SplitPropagateCombine(xs: list[int], k: int) -> int:
    """Split node -> propagated node -> downstream combine -> reduce node."""
    a = workflow.add(Add(b=1).split(a=xs))
    m = workflow.add(Mul(a=a.out, b=k).combine("Add.a"))
    return workflow.add(Sum(xs=m.out)).out


@workflow.define(outputs=["total", "inner"])
def Outer(xs: list[int], k: int) -> tuple[int, int]:
    """Nests SplitPropagateCombine and adds one."""
    inner = workflow.add(SplitPropagateCombine(xs=xs, k=k))
    plus = workflow.add(Add(a=inner.out, b=1))
    return plus.out, inner.out


@workflow.define(outputs=["kept", "total"])
def PartialFailure(xs: list[int], bad: int) -> tuple[list[int], int]:
    """One failing element: the others are kept, the reduce over all is skipped."""
    f = workflow.add(FailOn(bad=bad).split(x=xs))
    a = workflow.add(Add(a=f.out, b=1))
    s = workflow.add(Sum(xs=workflow.add(Add(a=a.out, b=0).combine("FailOn.x"), name="G").out))
    return a.out, s.out
