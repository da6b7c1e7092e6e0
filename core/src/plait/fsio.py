"""Checked file writes: every byte written or an error, never a truncated file in place.

``os.write`` may write fewer bytes than asked (always, above 2 GiB on Linux);
:func:`write_all` loops until everything is written. :func:`atomic_write`
writes a private temporary file next to the target and renames it into place,
so readers see the whole new file or the old one (or none), never a part.
``fsync`` before the rename is off by default (results carry a digest, so a
file torn by a power loss is detected and recomputed, see docs/reliability.md);
``PLAIT_FSYNC=1`` turns it on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

__all__ = ["FSYNC", "atomic_write", "write_all"]

#: fsync every result file before it is renamed into place (``PLAIT_FSYNC=1``)
FSYNC = os.environ.get("PLAIT_FSYNC", "") not in ("", "0")

_CHUNK = 1 << 30  # at most 1 GiB per write call
_JOIN_BELOW = 1 << 16


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` to ``fd`` (looping over short writes); raise OSError on failure."""
    total = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
    done = 0
    if total <= _CHUNK:
        done = os.write(fd, data)
        if done == total:
            return
    view = memoryview(data).cast("B")
    while done < total:
        n = os.write(fd, view[done : done + _CHUNK])
        if n <= 0:  # never returned by POSIX write for a non-empty buffer; be safe
            raise OSError(f"write returned {n} after {done} of {total} bytes")
        done += n


def atomic_write(
    path: str, parts: Iterable[bytes | bytearray | memoryview], tmp_suffix: str, mode: int = 0o644
) -> None:
    """Write ``parts`` to ``path`` atomically (a private temporary file, then a rename).

    ``tmp_suffix`` makes the temporary name private to the writer. On any error
    the temporary file is removed and the error is raised; ``path`` is untouched.
    """
    tmp = f"{path}.{tmp_suffix}.tmp"
    parts = list(parts)
    if len(parts) > 1 and sum(len(p) for p in parts) < _JOIN_BELOW:
        parts = [b"".join(parts)]  # one write call for a small file
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, mode)
    try:
        try:
            for part in parts:
                write_all(fd, part)
            if FSYNC:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
