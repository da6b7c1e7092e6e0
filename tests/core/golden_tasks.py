"""Tasks whose job checksums are pinned in test_golden_digests.py. Do not edit them:
any change to this file changes the pinned digests."""

from __future__ import annotations

from plait import python, shell

FACTOR = 3


@python.define
def Scale(x: int, offset: float = 0.5) -> float:
    """x * FACTOR + offset."""
    return x * FACTOR + offset


CountLines = shell.define("wc -l <in_file:generic/file>")
