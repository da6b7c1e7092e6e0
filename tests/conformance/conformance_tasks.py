"""Tasks and workflows of the cross-worker conformance suite (importable by worker processes)."""

from __future__ import annotations

import os
import time

from fileformats.generic import File

from plait import python, shell, workflow


@python.define
def TenToThePower(p: int) -> int:
    """Ten to the power ``p``."""
    return 10**p


@python.define
def Add(a: int, b: int = 0) -> int:
    """a + b."""
    return a + b


@python.define
def Mul(a: int, b: int) -> int:
    """a * b."""
    return a * b


@python.define
def Sum(xs: list[int]) -> int:
    """Sum of a list."""
    return sum(xs)


@python.define
def Square(x: int) -> int:
    """x squared (the map of MapReduce)."""
    return x * x


@python.define
def Range(n: int) -> list[int]:
    """[0, 1, ..., n-1]."""
    return list(range(n))


@python.define
def Identity(x: int) -> int:
    """Returns its input."""
    return x


@python.define
def FailOn(x: int, bad: int = -1) -> int:
    """Returns x, but raises for x == bad."""
    if x == bad:
        raise ValueError(f"bad element {x}")
    return x


@python.define(outputs=["quotient", "remainder"])
def DivMod(a: int, b: int) -> tuple[int, int]:
    """divmod(a, b)."""
    return divmod(a, b)


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


@python.define
def ReadText(f: File) -> str:
    """The text of a file."""
    with open(f.fspath) as fh:
        return fh.read()


Copy = shell.define("cp <in_file:generic/file> <out|out_file:generic/file>")
Upper = shell.define(
    "sh -c <script:str> upper <in_file:generic/file> <out|out_file:text/plain=upper.txt>",
    name="Upper",
)
UPPER_SCRIPT = 'tr a-z A-Z < "$1" > "$2"'


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


@workflow.define
def MapReduce(xs: list[int]) -> int:
    """Parsl-style MapReduce: square each element, then sum."""
    sq = workflow.add(Square().split(x=xs).combine("x"))
    return workflow.add(Sum(xs=sq.out)).out


@workflow.define(outputs=["a", "b", "both"])
def TwoIndependent(seconds: float, log_dir: str) -> tuple[str, str, str]:
    """ewoksdask-style: two nodes with no edge between them, then one reading both."""
    a = workflow.add(Interval(tag="A", seconds=seconds, log_dir=log_dir), name="A")
    b = workflow.add(Interval(tag="B", seconds=seconds, log_dir=log_dir), name="B")
    both = workflow.add(Concat(a=a.out, b=b.out))
    return a.out, b.out, both.out


@workflow.define
def RuntimeSplit(ns: list[int]) -> list[list[int]]:
    """A split over an upstream output (its jobs are known only at run time)."""
    r = workflow.add(Range().split(n=ns))
    ident = workflow.add(Identity().split(x=r.out).combine("x"))
    return ident.out


@workflow.define(outputs=["copied", "upper", "text"])
def FilePassing(files: list[File]) -> tuple[list[File], list[File], list[str]]:
    """Parsl-style file passing: shell copies and transforms each file, python reads it."""
    c = workflow.add(Copy().split(in_file=files))
    u = workflow.add(Upper(script=UPPER_SCRIPT, in_file=c.out_file))
    r = workflow.add(ReadText(f=u.out_file))
    return c.out_file, u.out_file, r.out


@workflow.define(outputs=["kept", "total"])
def PartialFailure(xs: list[int], bad: int) -> tuple[list[int], int]:
    """One failing element: the others are kept, the reduce over all is skipped."""
    f = workflow.add(FailOn(bad=bad).split(x=xs))
    a = workflow.add(Add(a=f.out, b=1))
    s = workflow.add(Sum(xs=workflow.add(Add(a=a.out, b=0).combine("FailOn.x"), name="G").out))
    return a.out, s.out


@workflow.define
def AddThenDouble(x: int) -> int:
    """A small nested workflow: (x + 1) * 2."""
    a = workflow.add(Add(a=x, b=1))
    return workflow.add(Mul(a=a.out, b=2)).out


@workflow.define(outputs=["each", "total"])
def NestedConnected(xs: list[int]) -> tuple[list[int], int]:
    """A nested workflow fed by a split upstream node: flattened, one inner job per element."""
    sq = workflow.add(Square().split(x=xs))
    inner = workflow.add(AddThenDouble(x=sq.out), name="Inner")
    total = workflow.add(Sum(xs=workflow.add(Identity(x=inner.out).combine("Square.x")).out))
    return inner.out, total.out
