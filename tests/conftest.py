"""Fixtures shared by every test folder.

The test task modules (``core_tasks``, ``conformance_tasks`` ...) are on
pytest's ``pythonpath`` (root pyproject.toml); :func:`subprocess_env` gives a
child Python the same view, so scripts import them without ``sys.path`` edits.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: what a child interpreter needs on PYTHONPATH: the core's sources and the task modules
PYTHONPATH = [ROOT / "core" / "src", ROOT / "tests" / "core", ROOT / "tests" / "conformance"]


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """``os.environ`` with the core and the test task modules on ``PYTHONPATH``."""
    env = dict(os.environ)
    paths = [str(p) for p in PYTHONPATH] + [p for p in [env.get("PYTHONPATH")] if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env
