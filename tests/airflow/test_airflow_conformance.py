"""Issue 5, item 1: the conformance workflows through ``to_dag`` + ``dag.test()``.

Each case of tests/conformance runs once on the ``debug`` worker (the
reference) and once as an Airflow DAG built by ``to_dag`` from a DAG file in
DAGS_FOLDER, each with its own empty cache: outputs (files compared by content
and by their place in the cache), failures, and the set of job directories
must be equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import run_dag, states
from test_conformance import CASES, _normal, _run

from plait_airflow import run_outputs


def _airflow_run(case: str, tmp: Path, root: Path, dag_files: Any) -> dict[str, Any]:
    dag_id = "conformance_" + case.replace("-", "_")
    path = dag_files.place(
        dag_id,
        f"""
        from pathlib import Path

        from test_conformance import CASES
        from plait_airflow import to_dag

        dag = to_dag(CASES[{case!r}](Path({str(tmp)!r})), dag_id={dag_id!r},
                     cache_root={str(root)!r})
        """,
    )
    dag = dag_files.load(path, dag_id)
    dag_run = run_dag(dag)
    outputs = run_outputs(dag_run)
    assert outputs is not None, states(dag_run)
    failed_tis = sorted(k for k, s in states(dag_run).items() if s == "failed")
    jobs = sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "result.pkl").exists())
    return {
        "outputs": _normal(outputs, root),
        "errored": str(dag_run.state) == "failed",
        "jobs": jobs,
        "failed_tis": failed_tis,
    }


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", list(CASES))
def test_same_outputs_and_cache_dirs_as_debug(case: str, tmp_path: Path, dag_files: Any) -> None:
    defn = CASES[case](tmp_path)
    reference = _run(defn, tmp_path / "reference", {"worker": "debug"})
    got = _airflow_run(case, tmp_path, tmp_path / "airflow", dag_files)
    assert got["outputs"] == reference["outputs"]
    assert got["jobs"] == reference["jobs"]
    assert got["errored"] == reference["errored"]
    if reference["errored"]:
        # the failing job's task instance and the outputs task fail; nothing else
        assert got["failed_tis"][-1] == ("outputs", -1)
        assert len(got["failed_tis"]) == len(reference["failed"]) + 1
    else:
        assert got["failed_tis"] == []
