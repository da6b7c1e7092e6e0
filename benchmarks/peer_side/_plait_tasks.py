"""plait's tasks for the peer benchmark, in a module so workers import them by reference."""

from __future__ import annotations

import _funcs

from plait import python, workflow


@python.define
def Add1(x: int) -> int:
    """x + 1."""
    return _funcs.add1(x)


@python.define
def Add1Sleep(x: int) -> int:
    """x + 1 after 1 ms."""
    return _funcs.add1_sleep(x)


@python.define
def Total(y: list[int]) -> int:
    """The sum."""
    return _funcs.total(y)


@workflow.define
def MapReduce(xs: list[int]) -> int:
    """Add1 over xs, then Total over all of them."""
    mapped = workflow.add(Add1().split(x=xs).combine("x"))
    return workflow.add(Total(y=mapped.out)).out
