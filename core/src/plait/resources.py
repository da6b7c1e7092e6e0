"""Resources a job needs (CPUs, memory), declared on a definition or a node.

Hosts map them to their own notions: Dask worker resources, SLURM job sizes,
Airflow pools. The embedded workers ignore them.
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
    """What one job of a node needs: ``cpus`` and ``memory`` (bytes)."""

    cpus: int | None = None
    memory: int | None = attrs.field(default=None, converter=parse_memory)

    def __bool__(self) -> bool:
        return self.cpus is not None or self.memory is not None

    def as_dict(self) -> dict[str, float]:
        """The declared resources by name (``{"cpus": 2, "memory": 1e9}``)."""
        out: dict[str, float] = {}
        if self.cpus is not None:
            out["cpus"] = self.cpus
        if self.memory is not None:
            out["memory"] = self.memory
        return out


def make_resources(cpus: int | None, memory: Any) -> Resources | None:
    """A Resources object, or None when nothing is declared."""
    res = Resources(cpus=cpus, memory=memory)
    return res if res else None
