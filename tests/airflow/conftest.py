"""A real Airflow 3 for the tests: one AIRFLOW_HOME and one sqlite metadata DB per session.

The environment is set when this file is imported, before anything imports
Airflow; the DB is migrated once (``airflow db migrate``, as a user would)
by the session fixture. Test DAG files are written into DAGS_FOLDER, as a
user places them; ``dag.test()`` runs a DAG only if it was serialized from there.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
_HOME = Path(tempfile.mkdtemp(prefix="plait-airflow-home-"))
_DAGS = _HOME / "dags"
_DAGS.mkdir()
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(_DAGS),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    # DAG files import test helpers (tests.conformance, tests.airflow) from the repo
    "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), str(REPO / "tests" / "conformance"), os.environ.get("PYTHONPATH")])
    ),
}
os.environ.update(AIRFLOW_ENV)
for _p in (str(REPO), str(REPO / "tests" / "conformance")):
    if _p not in sys.path:
        sys.path.insert(0, _p)


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> Iterator[Path]:
    """Migrate the session's sqlite metadata DB once."""
    from airflow_helpers import airflow_cli

    proc = airflow_cli("db", "migrate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield _HOME / "airflow.db"
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture
def dags_folder() -> Path:
    """The DAGS_FOLDER Airflow parses."""
    return _DAGS


class DagFiles:
    """Writes DAG files into DAGS_FOLDER and loads them as Airflow does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def place(self, name: str, source: str) -> Path:
        path = self.folder / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    def load(self, path: Path, dag_id: str) -> Any:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(path))
        assert not bag.import_errors, bag.import_errors
        dag = bag.get_dag(dag_id)
        assert dag is not None, f"{dag_id} not in {path}: {list(bag.dag_ids)}"
        return dag


@pytest.fixture
def dag_files(dags_folder: Path) -> DagFiles:
    """Place DAG files in DAGS_FOLDER and load them."""
    return DagFiles(dags_folder)
