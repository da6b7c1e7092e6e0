"""The plain functions every peer runs (stdlib only; workers import them by reference)."""

from __future__ import annotations

import time


def add1(x: int) -> int:
    """The trivial job: x + 1."""
    return x + 1


def add1_sleep(x: int) -> int:
    """x + 1 after sleeping 1 ms."""
    time.sleep(0.001)
    return x + 1


def total(y: list[int]) -> int:
    """The reduce step: the sum of the mapped values."""
    return int(sum(y))


def expected(workload: str, n: int) -> object:
    """What a workload must return for ``n`` elements."""
    if workload in ("mapreduce", "cached"):
        return sum(x + 1 for x in range(n))
    return [x + 1 for x in range(n)]


def total_args(*y: int) -> int:
    """The reduce step taking the mapped values as arguments (Parsl's futures)."""
    return int(sum(y))
