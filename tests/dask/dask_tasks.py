"""Tasks of the plait-dask tests (importable by Dask worker processes).

The workflows every worker shares live in ``tests/conformance/conformance_tasks.py``
(re-exported here); this module adds the Dask-only ones: execution counting,
resources, SLURM.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

from conformance_tasks import (
    Add,
    Concat,
    FailOn,
    Identity,
    Interval,
    Mul,
    NestedConnected,
    Outer,
    PartialFailure,
    Powers,
    Range,
    RuntimeSplit,
    SplitPropagateCombine,
    Sum,
    TenToThePower,
    TwoIndependent,
)

from plait import python, workflow

__all__ = [
    "Add",
    "Blob",
    "BlobLength",
    "BlobLengths",
    "Blobs",
    "Concat",
    "Counted",
    "CountedChain",
    "CountedNext",
    "FailOn",
    "FailOnText",
    "Huge",
    "Identity",
    "Interval",
    "Length",
    "Mul",
    "NestedConnected",
    "Outer",
    "PartialFailure",
    "Powers",
    "Range",
    "Release",
    "RuntimeSplit",
    "Sized",
    "SlowFirst",
    "Small",
    "SplitPropagateCombine",
    "Sum",
    "TenToThePower",
    "Trivial",
    "TwoIndependent",
    "WaitForOthers",
    "WhereAmI",
]


def _mark(marker_dir: str, what: str, name: str) -> None:
    path = os.path.join(marker_dir, f"{name}.{what}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    with open(path, "w"):
        pass


@python.define
def Counted(x: int, marker_dir: str, seconds: float = 0.0) -> int:
    """Returns x + 1000; leaves a ``start`` and an ``end`` marker file per execution."""
    _mark(marker_dir, "start", f"Counted-{x}")
    time.sleep(seconds)
    _mark(marker_dir, "end", f"Counted-{x}")
    return x + 1000


@python.define
def CountedNext(y: int, marker_dir: str, seconds: float = 0.0) -> int:
    """Returns y * 2; leaves a ``start`` and an ``end`` marker file per execution."""
    _mark(marker_dir, "start", f"CountedNext-{y}")
    time.sleep(seconds)
    _mark(marker_dir, "end", f"CountedNext-{y}")
    return y * 2


@workflow.define
def CountedChain(xs: list[int], marker_dir: str, seconds: float) -> list[int]:
    """Counted over xs, then CountedNext on each element (200 + 200 jobs for 200 xs)."""
    a = workflow.add(Counted(marker_dir=marker_dir, seconds=seconds).split(x=xs))
    return workflow.add(CountedNext(y=a.out, marker_dir=marker_dir, seconds=seconds)).out


@python.define(cpus=1, memory="100MB")
def Small(x: int) -> int:
    """Needs one CPU and 100 MB."""
    return x + 1


@python.define(cpus=64)
def Huge(x: int) -> int:
    """Needs 64 CPUs: fits no test machine's worker."""
    return x


@python.define(cpus=2, memory="1GB")
def Sized(x: int) -> int:
    """Needs 2 CPUs and 1 GB."""
    return x


@python.define(outputs=["value", "slurm_job_id", "host"], cpus=1, memory="200MB")
def WhereAmI(x: int, seconds: float = 0.0) -> tuple[int, str, str]:
    """x squared, and the SLURM job (if any) and host that ran it; needs 1 CPU, 200 MB."""
    time.sleep(seconds)
    return x * x, os.environ.get("SLURM_JOB_ID", ""), socket.gethostname()


@python.define
def Trivial(x: int) -> int:
    """x + 1 (the benchmark's job)."""
    return x + 1


@python.define
def Blob(n: int) -> bytes:
    """n bytes (a large output when n is large)."""
    return b"x" * n


@python.define
def Length(data: bytes) -> int:
    """len(data)."""
    return len(data)


@workflow.define
def BlobLength(n: int) -> int:
    """A large output read by a downstream node."""
    blob = workflow.add(Blob(n=n))
    return workflow.add(Length(data=blob.out)).out


@python.define
def Blobs(n: int, size: int) -> list[bytes]:
    """n different blobs of ``size`` bytes."""
    return [bytes([i % 256]) * size for i in range(n)]


@workflow.define
def BlobLengths(n: int, size: int) -> list[int]:
    """A split over a large upstream list output, element by element."""
    blobs = workflow.add(Blobs(n=n, size=size))
    return workflow.add(Length().split(data=blobs.out).combine("data")).out


@python.define
def WaitForOthers(x: int, marker_dir: str, others: int, timeout: float) -> int:
    """x; the job with x == 0 first waits (up to ``timeout`` s) for ``others`` Release markers.

    It records how many it saw in ``seen-<n>``: with per-element release every
    downstream job of the other elements finishes while it waits.
    """
    if x == 0:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = len([m for m in os.listdir(marker_dir) if m.startswith("released-")])
            if seen >= others:
                break
            time.sleep(0.05)
        Path(marker_dir, f"seen-{seen}").touch()
    return x


@python.define
def Release(x: int, marker_dir: str) -> int:
    """x; leaves a ``released-<x>`` marker."""
    Path(marker_dir, f"released-{x}").touch()
    return x


@workflow.define
def SlowFirst(xs: list[int], marker_dir: str, timeout: float) -> list[int]:
    """WaitForOthers over xs, then Release of each element: B[x] needs only A[x]."""
    a = workflow.add(
        WaitForOthers(marker_dir=marker_dir, others=len(xs) - 1, timeout=timeout).split(x=xs)
    )
    return workflow.add(Release(x=a.out, marker_dir=marker_dir)).out


@python.define
def FailOnText(s: str, bad: str) -> str:
    """s; raises when s == bad."""
    if s == bad:
        raise ValueError(f"bad text {s!r}")
    return s
