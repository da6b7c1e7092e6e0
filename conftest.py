"""Run every Python code block of README.md and docs/ (and the adapters' READMEs) as a test.

Sybil collects the blocks of each page and runs them in order in one namespace,
in a fresh working directory with its own ``PLAIT_CACHE_ROOT``. A page about a
host runs in that host's tox environment (``HOST_PAGES``: collected only where
its adapter is importable). A block that cannot run here is preceded by
``<!-- skip: next "why" -->`` and reported as skipped with that reason;
``<!-- invisible-code-block: python -->`` blocks set up what a page assumes.
Pages about Prefect run against the test run's one Prefect API server.

(One conftest.py for the docs, here: a second one under docs/ would take the
module name ``conftest`` that tests import their helpers from.)
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from sybil import Sybil
    from sybil.parsers.markdown import ClearNamespaceParser, PythonCodeBlockParser, SkipParser
except ImportError:  # an environment that does not run the documentation's code
    Sybil = None

REPO = Path(__file__).parent

#: pages whose code needs a host: page -> the module that must be importable to run them
HOST_PAGES = {
    "docs/dask.md": "plait_dask",
    "docs/slurm.md": "plait_dask",
    "docs/airflow.md": "plait_airflow",
    "docs/prefect.md": "plait_prefect",
    "adapters/dask/README.md": "plait_dask",
    "adapters/airflow/README.md": "plait_airflow",
    "adapters/prefect/README.md": "plait_prefect",
}


#: pages whose blocks run against the test run's one Prefect API server where
#: plait-prefect is installed (tests/prefect/prefect_server.py), never an
#: ephemeral server of their own
PREFECT_PAGES = {"docs/prefect.md", "docs/getting-started.md", "adapters/prefect/README.md"}


@contextlib.contextmanager
def _services(page: str) -> Iterator[None]:
    """The host services a page's blocks need while they run."""
    if page not in PREFECT_PAGES or importlib.util.find_spec("plait_prefect") is None:
        yield
        return
    sys.path.insert(0, str(REPO / "tests" / "prefect"))
    import prefect_server

    prefect_server.acquire()
    try:
        yield
    finally:
        prefect_server.release()


@pytest.fixture(scope="module")
def docs_env(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """A fresh working directory and cache root for one page's blocks (and its services)."""
    work = tmp_path_factory.mktemp("docs")
    old_cwd, old_root = os.getcwd(), os.environ.get("PLAIT_CACHE_ROOT")
    page = request.path.resolve().relative_to(REPO).as_posix()
    os.chdir(work)
    os.environ["PLAIT_CACHE_ROOT"] = str(work / "plait-cache")
    try:
        with _services(page):
            yield work
    finally:
        os.chdir(old_cwd)
        if old_root is None:
            os.environ.pop("PLAIT_CACHE_ROOT", None)
        else:
            os.environ["PLAIT_CACHE_ROOT"] = old_root


def _setup(namespace: dict[str, Any]) -> None:
    namespace["__name__"] = "__main__"  # blocks are scripts: their tasks live in __main__


if Sybil is not None:
    _sybil = Sybil(
        parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
        patterns=["README.md", "docs/*.md", "adapters/*/README.md", "core/README.md"],
        fixtures=["docs_env"],
        setup=_setup,
    )
    _collect = _sybil.pytest()

    def pytest_collect_file(file_path: Path, parent: Any) -> Any:
        """Collect a documentation page whose host (if any) is installed here."""
        if file_path.suffix != ".md":
            return None
        rel = file_path.resolve().relative_to(REPO).as_posix()
        host = HOST_PAGES.get(rel)
        if host is not None and importlib.util.find_spec(host) is None:
            return None
        return _collect(file_path, parent)
