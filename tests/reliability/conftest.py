"""Fixtures of the reliability suite (faults injected into the real cache and workers)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from rel_tasks import MARKS_ENV


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """An empty cache root for one test."""
    root = tmp_path / "cache"
    root.mkdir()
    return root


@pytest.fixture
def marks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the reliability tasks record their executions in."""
    path = tmp_path / "marks.txt"
    monkeypatch.setenv(MARKS_ENV, str(path))
    return path


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (root only): a real full disk."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the injected-failure tests cover ENOSPC")
    mnt = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
