"""Resources a job needs (CPUs, memory) and its time limit, declared on a definition or a node.

Hosts map them to their own notions: Dask worker resources, SLURM job sizes,
Airflow pools. The embedded workers ignore cpus and memory; the ``cf`` worker
stops a job that runs longer than its ``timeout``.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

_UNITS = {"": 1, "B": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
_IUNITS = {"KI": 1024, "MI": 1024**2, "GI": 1024**3, "TI": 1024**4}


def parse_memory(value: Any) -> int | None:
    """Bytes from ``2_000_000``, ``"512MB"``, ``"1GiB"`` or ``"4G"``; None stays None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?I?)B?\s*", value.upper())
        if m:
            number, unit = m.groups()
            scale = _IUNITS.get(unit) or _UNITS.get(unit)
            if scale:
                return int(float(number) * scale)
    raise ValueError(f"cannot read memory size {value!r}: use bytes or e.g. '512MB', '2GiB'")


@attrs.frozen
class Resources:
    """What one job of a node needs: ``cpus`` and ``memory`` (bytes); and ``timeout``.

    ``timeout`` (seconds) is not a resource to reserve (:meth:`as_dict` leaves
    it out) but a limit: workers that can stop a job (``cf``) fail a job that
    runs longer with ``TimeoutError``.
    """

    cpus: int | None = None
    memory: int | None = attrs.field(default=None, converter=parse_memory)
    timeout: float | None = None

    def __bool__(self) -> bool:
        return self.cpus is not None or self.memory is not None or self.timeout is not None

    def as_dict(self) -> dict[str, float]:
        """The declared resources by name (``{"cpus": 2, "memory": 1e9}``)."""
        out: dict[str, float] = {}
        if self.cpus is not None:
            out["cpus"] = self.cpus
        if self.memory is not None:
            out["memory"] = self.memory
        return out


def make_resources(cpus: int | None, memory: Any, timeout: float | None = None) -> Resources | None:
    """A Resources object, or None when nothing is declared."""
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    res = Resources(cpus=cpus, memory=memory, timeout=timeout)
    return res if res else None
