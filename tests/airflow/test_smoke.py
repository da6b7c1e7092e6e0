from __future__ import annotations

from pathlib import Path

from airflow_helpers import run_dag, states


def test_powers(dag_files, tmp_path: Path) -> None:
    path = dag_files.place(
        "smoke_powers",
        f"""
        from conformance_tasks import Powers
        from plait_airflow import to_dag

        dag = to_dag(Powers(ps=[1, 2, 3]), dag_id="smoke_powers", cache_root={str(tmp_path / "c")!r})
        """,
    )
    dag = dag_files.load(path, "smoke_powers")
    dr = run_dag(dag)
    print(states(dr))
    from plait_airflow import run_outputs
    print(run_outputs(dr))
    assert dr.state == "success"
