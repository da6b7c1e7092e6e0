"""Issue 12: the Airflow Assets a to_dag DAG emits (plait:// per node, file:// per output file).

That an emitted asset schedules another DAG is checked under a real scheduler
(test_real_scheduler.py); here ``dag.test()`` records the asset events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import run_dag, states


def _events(dag_run: Any) -> dict[str, int]:
    """Asset URI -> number of events the run's tasks emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, func.count())
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == dag_run.dag_id)
            .where(AssetEvent.source_run_id == dag_run.run_id)
            .group_by(AssetModel.uri)
        ).all()
    return {str(uri): int(n) for uri, n in rows}


@pytest.mark.timeout(300)
def test_nodes_emit_plait_assets_and_file_outputs_file_assets(
    dag_files: Any, tmp_path: Path
) -> None:
    src = tmp_path / "inputs"
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_text(name)
    cache = tmp_path / "cache"
    path = dag_files.place(
        "assets_files",
        f"""
        from conformance_tasks import Copy
        from fileformats.generic import File
        from plait import workflow
        from plait_airflow import to_dag

        @workflow.define
        def Copies(files: list[File]) -> list[File]:
            c = workflow.add(Copy().split(in_file=files).combine("in_file"))
            return c.out_file

        dag = to_dag(Copies(files={[str(src / n) for n in ("a.txt", "b.txt")]!r}),
                     dag_id="assets_files", cache_root={str(cache)!r})
        quiet = to_dag(Copies(files={[str(src / "a.txt")]!r}), dag_id="assets_off",
                       cache_root={str(cache)!r}, emit_assets=False)
        """,
    )
    dag_run = run_dag(dag_files.load(path, "assets_files"))
    assert str(dag_run.state) == "success", states(dag_run)
    events = _events(dag_run)
    assert events.pop("plait://Copies/Copy") == 1
    # one file:// asset per output file, each in its job's cache directory
    assert len(events) == 2
    for uri in events:
        assert uri.startswith(f"file://{cache}/shell-") and uri.endswith("/out_file")

    quiet = run_dag(dag_files.load(path, "assets_off"))
    assert str(quiet.state) == "success"
    assert _events(quiet) == {}
