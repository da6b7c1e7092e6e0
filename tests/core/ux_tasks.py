"""Small workflows for the progress, CLI and picture tests (importable by subprocesses)."""

from __future__ import annotations

from plait import python, workflow


@python.define
def Square(x: int) -> int:
    """``x * x``; fails for ``x == 3`` (a task that fails on one element)."""
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


@python.define
def Total(values: list[int]) -> int:
    """The sum of ``values``."""
    return sum(values)


@python.define
def Double(x: int) -> int:
    """``2 * x``."""
    return 2 * x


@workflow.define(outputs=["squares", "total"])
def SumOfSquares(xs: list[int]) -> tuple[list[int], int]:
    """Square every x (one job each), then add them up."""
    sq = workflow.add(Square().split(x=xs).combine("x"))
    total = workflow.add(Total(values=sq.out))
    return sq.out, total.out


@workflow.define(outputs=["total"])
def Nested(xs: list[int]) -> int:
    """A workflow using SumOfSquares as one of its nodes (a cluster in pictures)."""
    inner = workflow.add(SumOfSquares(xs=xs))
    double = workflow.add(Double(x=inner.total))
    return double.out
