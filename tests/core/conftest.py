"""Fixtures shared by the core tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_tasks import CALLS_DIR_ENV


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """An empty cache root for one test."""
    root = tmp_path / "cache"
    root.mkdir()
    return root


@pytest.fixture(params=["debug", "cf"])
def worker(request: pytest.FixtureRequest) -> str:
    """Each embedded worker in turn."""
    return str(request.param)


@pytest.fixture
def call_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the core test tasks record their calls in (see ``core_tasks.calls``)."""
    path = tmp_path / "calls.txt"
    monkeypatch.setenv(CALLS_DIR_ENV, str(path))
    return path
