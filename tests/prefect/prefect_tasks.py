"""Tasks and workflows of the plait-prefect tests (importable by Dask and process-pool workers)."""

from __future__ import annotations

import os
import uuid

from conformance_tasks import FailOn, Identity, Range, Sum

from plait import python, workflow


@python.define
def Node(x: int) -> int:
    """x squared."""
    return x * x


@python.define
def Keys(d: dict) -> int:
    """The number of keys (its labels contain braces)."""
    return len(d)


@python.define
def Marked(x: int, marks: str, flaky: int = -1) -> int:
    """Leaves one marker file per execution in ``marks``; element ``flaky`` fails its first time."""
    os.makedirs(marks, exist_ok=True)
    previous = [m for m in os.listdir(marks) if m.startswith(f"{x}-")]
    with open(os.path.join(marks, f"{x}-{uuid.uuid4().hex}"), "w"):
        pass
    if x == flaky and not previous:
        raise RuntimeError(f"flaky element {x} fails its first attempt")
    return x


@python.define(cpus=64)
def Huge(x: int) -> int:
    """Declares 64 cpus: no worker of a small cluster can ever run it."""
    return x


@python.define(cpus=1)
def Small(x: int) -> int:
    """Declares 1 cpu."""
    return x + 1


@workflow.define
def SplitSum(xs: list[int]) -> int:
    """Node over each x, then their sum."""
    n = workflow.add(Node().split(x=xs).combine("x"))
    return workflow.add(Sum(xs=n.out)).out


@workflow.define(outputs=["kept", "total"])
def OneBad(xs: list[int], bad: int) -> tuple[list[int], int]:
    """One failing element: the others are kept, the sum over all is skipped."""
    f = workflow.add(FailOn(bad=bad).split(x=xs).combine("x"))
    s = workflow.add(Sum(xs=f.out))
    return f.out, s.out


@workflow.define
def MarkedSum(xs: list[int], marks: str, flaky: int = -1) -> int:
    """Marked over each x (one flaky), then their sum."""
    m = workflow.add(Marked(marks=marks, flaky=flaky).split(x=xs).combine("x"))
    return workflow.add(Sum(xs=m.out)).out


@workflow.define
def RuntimeSplit(n: int) -> list[int]:
    """A split over an upstream output: its jobs are known only at run time."""
    r = workflow.add(Range(n=n))
    ident = workflow.add(Identity().split(x=r.out).combine("x"))
    return ident.out


@workflow.define(outputs=["powers", "total"])
def Powers(ps: list[int]) -> tuple[list[int], int]:
    """Squares over ps, and their sum."""
    pw = workflow.add(Node().split(x=ps).combine("x"))
    total = workflow.add(Sum(xs=pw.out))
    return pw.out, total.out


@python.define
def Shout(x: int) -> int:
    """Logs through Prefect's run logger (to its task run), then fails for x < 0."""
    from prefect import get_run_logger

    get_run_logger().warning(f"shout {x}")
    if x < 0:
        raise ValueError(f"negative {x}")
    return x
