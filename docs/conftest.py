"""Documentation pages that need a running host service get it here.

docs/prefect.md runs against the one Prefect API server of the test run
(tests/prefect/prefect_server.py), never an ephemeral server of its own: this
wraps the root conftest's ``docs_env`` (the one fixture Sybil gives each page).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def docs_env(docs_env: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """The root ``docs_env``, plus the shared Prefect API server for docs/prefect.md."""
    if request.path.name != "prefect.md":
        yield docs_env
        return
    sys.path.insert(0, str(REPO / "tests" / "prefect"))
    import prefect_server

    prefect_server.acquire()
    try:
        yield docs_env
    finally:
        prefect_server.release()
