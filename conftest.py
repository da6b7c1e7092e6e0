"""Run every Python code block of README.md and docs/ (and the adapters' READMEs) as a test.

Sybil collects the blocks of each page and runs them in order in one namespace,
in a fresh working directory with its own ``PLAIT_CACHE_ROOT``. A page about a
host runs in that host's tox environment (``HOST_PAGES``: collected only where
its adapter is importable). A block that cannot run here is preceded by
``<!-- skip: next "why" -->`` and reported as skipped with that reason;
``<!-- invisible-code-block: python -->`` blocks set up what a page assumes.
"""

from __future__ import annotations

import importlib.util
import os
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


@pytest.fixture(scope="module")
def docs_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh working directory and cache root for one page's blocks."""
    work = tmp_path_factory.mktemp("docs")
    old_cwd, old_root = os.getcwd(), os.environ.get("PLAIT_CACHE_ROOT")
    os.chdir(work)
    os.environ["PLAIT_CACHE_ROOT"] = str(work / "plait-cache")
    try:
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
