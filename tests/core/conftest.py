"""Fixtures shared by the core tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


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
