"""Issue 5, item 2: the example DAG file from the command line; the provider is registered."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, airflow_cli

import plait


def test_providers_list_shows_plait_airflow() -> None:
    proc = airflow_cli("providers", "list", "--output", "plain")
    assert proc.returncode == 0, proc.stderr
    assert "plait-airflow" in proc.stdout


def test_provider_info_is_cheap_and_complete() -> None:
    import plait_airflow

    info = plait_airflow.get_provider_info()
    assert info["package-name"] == "plait-airflow"
    assert info["versions"] == [plait_airflow.__version__]
    assert info["operators"][0]["python-modules"] == ["plait_airflow.operators"]


@pytest.mark.timeout(300)
def test_example_dag_runs_with_airflow_dags_test(dags_folder: Path, tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "airflow" / "plait_powers_dag.py", dags_folder)
    cache = tmp_path / "cache"
    os.environ["PLAIT_CACHE_ROOT"] = str(cache)
    try:
        proc = airflow_cli("dags", "test", "plait_powers")
    finally:
        del os.environ["PLAIT_CACHE_ROOT"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stored = sorted(p.name for p in cache.iterdir() if (p / "result.pkl").exists())
    # 5 powers, 1 sum, and the workflow's own result
    assert len(stored) == 7
    kinds = sorted(name.split("-")[0] for name in stored)
    assert kinds == ["python"] * 6 + ["workflow"]
    workflow_dir = next(cache / n for n in stored if n.startswith("workflow-"))
    result = plait.load_result(workflow_dir)
    assert result is not None
    assert result.outputs == {"powers": [10, 100, 1000, 10000, 100000], "total": 111110}
