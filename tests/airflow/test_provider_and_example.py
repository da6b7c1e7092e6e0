"""Issue 5, item 2, and issue 12 (must-hold 6): the example DAG file from the command line;
the provider is registered with Airflow's conventions (config section, names, metadata)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import REPO, airflow_cli

import plait
from plait_airflow import run_outputs, to_dag


def test_providers_list_shows_plait_airflow_with_its_whole_description() -> None:
    import plait_airflow

    proc = airflow_cli("providers", "list", "--output", "plain")
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("plait-airflow"))
    # Airflow strips underscores from provider descriptions: ours has none to lose
    assert plait_airflow.get_provider_info()["description"] in line


def test_provider_info_is_cheap_and_complete() -> None:
    import plait_airflow

    info = plait_airflow.get_provider_info()
    assert info["package-name"] == "plait-airflow"
    assert info["versions"] == [plait_airflow.__version__]
    assert info["operators"][0]["python-modules"] == [
        "plait_airflow.operators",
        "plait_airflow.node_operators",
    ]
    assert "_" not in info["description"]
    assert set(info["config"]["plait"]["options"]) == {"cache_root", "max_tasks_per_node"}


def test_provider_config_section_is_registered_and_read_from_the_environment() -> None:
    proc = airflow_cli("config", "get-value", "plait", "max_tasks_per_node")
    assert (proc.returncode, proc.stdout.strip()) == (0, "64"), proc.stderr
    os.environ["AIRFLOW__PLAIT__CACHE_ROOT"] = "/shared/plait"
    try:
        proc = airflow_cli("config", "get-value", "plait", "cache_root")
    finally:
        del os.environ["AIRFLOW__PLAIT__CACHE_ROOT"]
    assert proc.stdout.strip() == "/shared/plait", proc.stderr


def test_distribution_metadata_has_project_urls_and_provider_classifiers() -> None:
    from importlib.metadata import metadata

    meta = metadata("plait-airflow")
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Documentation", "Source", "Bug Tracker", "Changelog"} <= set(urls)
    classifiers = meta.get_all("Classifier") or []
    assert "Framework :: Apache Airflow :: Provider" in classifiers
    assert "License :: OSI Approved :: Apache Software License" in classifiers


@pytest.mark.timeout(300)
def test_dag_file_without_cache_root_uses_the_plait_config_section(
    dag_files: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "from-config"
    monkeypatch.setenv("AIRFLOW__PLAIT__CACHE_ROOT", str(cache))
    path = dag_files.place(
        "no_cache_root",
        """
        from conformance_tasks import Powers
        from plait_airflow import to_dag

        dag = to_dag(Powers(ps=[1, 2]), dag_id="no_cache_root")
        """,
    )
    dag_run = dag_files.load(path, "no_cache_root").test()
    assert str(dag_run.state) == "success"
    assert run_outputs(dag_run) == {"powers": [10, 100], "total": 110}
    # 2 powers, the sum, the workflow: all in the configured cache
    assert len(plait.cache.stored(cache)) == 4


def test_operators_are_named_for_what_they_do_and_the_dag_documents_the_workflow(
    tmp_path: Path,
) -> None:
    from conformance_tasks import Powers, Range, Sum, TenToThePower

    from plait import workflow

    @workflow.define(outputs=["total"])
    def Documented(n: int) -> int:
        """Sum of powers of ten.

        The split over ``range(n)`` runs one job per power.
        """
        r = workflow.add(Range(n=n))
        pw = workflow.add(TenToThePower().split(p=r.out).combine("p"))
        return workflow.add(Sum(xs=pw.out)).out

    dag = to_dag(Documented(n=3), dag_id="documented", cache_root=tmp_path)
    names = {t.task_id: t.operator_name for t in dag.tasks}
    assert names == {
        "Range": "PlaitRunNode",
        "TenToThePower.expand": "PlaitExpandNode",
        "TenToThePower.run": "PlaitRunJobs",
        "TenToThePower.collect": "PlaitCollectNode",
        "Sum": "PlaitRunNode",
        "outputs": "PlaitWorkflowOutputs",
    }
    assert dag.description == "Sum of powers of ten."
    assert dag.doc_md is not None and "one job per power" in dag.doc_md
    given = to_dag(Powers(ps=[1]), dag_id="given", cache_root=tmp_path, description="mine")
    assert given.description == "mine"


@pytest.mark.timeout(300)
def test_example_dag_runs_with_airflow_dags_test(dags_folder: Path, tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "airflow" / "plait_powers_dag.py", dags_folder)
    cache = tmp_path / "cache"
    os.environ["AIRFLOW__PLAIT__CACHE_ROOT"] = str(cache)
    try:
        proc = airflow_cli("dags", "test", "plait_powers")
    finally:
        del os.environ["AIRFLOW__PLAIT__CACHE_ROOT"]
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
