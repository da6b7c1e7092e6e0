"""The task of bench_dask.py defined in a module, so Dask workers import it (by reference)."""

from plait import python


@python.define
def Trivial(x: int) -> int:
    """x + 1."""
    return x + 1
