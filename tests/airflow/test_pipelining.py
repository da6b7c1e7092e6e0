"""Issue 12, must-hold 2: a chain of split nodes runs per element (one mapped TaskGroup).

``A.split(x) -> B -> C`` without a combine: B[x=1] and C[x=1] must not wait
for A[x=0]. ``dag.test()`` runs task instances one at a time, so A[x=0] is
made slow by failing its first attempt and being retried after a delay; the
order is read from marker files each job writes when it finishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import run_dag, states, task_instances

from plait_airflow import run_outputs

DAG_FILE = """
import datetime

from counting_tasks import Stamp
from plait import workflow
from plait_airflow import to_dag


@workflow.define
def Chain(xs: list[int], log_dir: str) -> list[int]:
    a = workflow.add(Stamp(log_dir=log_dir, tag="A", late=0).split(x=xs), name="A")
    b = workflow.add(Stamp(x=a.out, log_dir=log_dir, tag="B"), name="B")
    c = workflow.add(Stamp(x=b.out, log_dir=log_dir, tag="C"), name="C")
    return c.out


dag = to_dag(
    Chain(xs=[0, 1, 2, 3], log_dir={runs!r}),
    dag_id={dag_id!r},
    cache_root={cache!r},
    pipeline={pipeline!r},
    node_options={{"A": {{"retries": 1, "retry_delay": datetime.timedelta(seconds=2)}}}},
)
"""


def _finished(runs: Path) -> dict[str, float]:
    return {p.name.split(".")[0]: float(p.read_text()) for p in runs.iterdir() if "." in p.name}


def _run(dag_files: Any, tmp_path: Path, pipeline: bool) -> tuple[Any, Any, dict[str, float]]:
    runs = tmp_path / f"runs-{pipeline}"
    runs.mkdir()
    dag_id = f"chain_{'pipelined' if pipeline else 'barrier'}"
    path = dag_files.place(
        dag_id,
        DAG_FILE.format(
            runs=str(runs),
            cache=str(tmp_path / f"cache-{pipeline}"),
            dag_id=dag_id,
            pipeline=pipeline,
        ),
    )
    dag = dag_files.load(path, dag_id)
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "success", states(dag_run)
    assert run_outputs(dag_run) == {"out": [0, 1, 2, 3]}
    return dag, dag_run, _finished(runs)


@pytest.mark.timeout(300)
def test_chain_elements_do_not_wait_for_a_slow_sibling(dag_files: Any, tmp_path: Path) -> None:
    dag, dag_run, done = _run(dag_files, tmp_path, pipeline=True)
    # one mapped TaskGroup over A's elements with a task per node, then a collect per node
    assert sorted(dag.task_ids) == [
        "A.collect",
        "B.collect",
        "C.collect",
        "chain_A.A",
        "chain_A.B",
        "chain_A.C",
        "outputs",
    ]
    labels = {
        (tid, mi): ti.rendered_map_index
        for (tid, mi), ti in task_instances(dag_run).items()
        if tid.startswith("chain_A.")
    }
    assert labels[("chain_A.C", 1)] == "x=1"
    assert len(labels) == 12
    # B[x=1] and C[x=1] finished before the slow A[x=0]
    assert done["B-1"] < done["A-0"]
    assert done["C-1"] < done["A-0"]
    assert done["C-0"] > done["A-0"]


@pytest.mark.timeout(300)
def test_without_pipelining_the_node_is_a_barrier(dag_files: Any, tmp_path: Path) -> None:
    dag, _, done = _run(dag_files, tmp_path, pipeline=False)
    assert "chain_A.A" not in dag.task_ids
    # the same DAG rendered node by node: B[x=1] waits for every A, the slow A[x=0] too
    assert done["B-1"] > done["A-0"]


@pytest.mark.timeout(300)
def test_a_node_with_its_own_split_stays_in_the_chain(dag_files: Any, tmp_path: Path) -> None:
    from test_conformance import _run

    from plait import workflow

    source = """
    from conformance_tasks import Add, Mul
    from plait import workflow
    from plait_airflow import to_dag


    @workflow.define
    def Grid(xs: list[int], ys: list[int]) -> list[int]:
        a = workflow.add(Add(b=1).split(a=xs), name="A")
        b = workflow.add(Add(a=a.out).split(b=ys), name="B")
        return workflow.add(Mul(a=b.out, b=2), name="C").out


    dag = to_dag(Grid(xs=[0, 1, 2], ys=[10, 20]), dag_id="chain_grid", cache_root={cache!r})
    """
    path = dag_files.place("chain_grid", source.format(cache=str(tmp_path / "airflow")))
    dag = dag_files.load(path, "chain_grid")
    assert {"chain_A.A", "chain_A.B", "chain_A.C"} <= set(dag.task_ids)
    dag_run = run_dag(dag)
    assert str(dag_run.state) == "success", states(dag_run)
    labels = {(tid, mi): ti.rendered_map_index for (tid, mi), ti in task_instances(dag_run).items()}
    assert [labels[("chain_A.C", i)] for i in range(3)] == ["a=0", "a=1", "a=2"]

    from conformance_tasks import Add, Mul

    @workflow.define
    def Grid(xs: list[int], ys: list[int]) -> list[int]:
        a = workflow.add(Add(b=1).split(a=xs), name="A")
        b = workflow.add(Add(a=a.out).split(b=ys), name="B")
        return workflow.add(Mul(a=b.out, b=2), name="C").out

    reference = _run(Grid(xs=[0, 1, 2], ys=[10, 20]), tmp_path / "debug", {"worker": "debug"})
    assert run_outputs(dag_run) == reference["outputs"]
    assert run_outputs(dag_run) == {"out": [2 * (x + 1 + y) for x in range(3) for y in (10, 20)]}
    jobs = sorted(p.name for p in (tmp_path / "airflow").iterdir() if (p / "result.pkl").exists())
    assert [j for j in jobs if not j.startswith("workflow-")] == [
        j for j in reference["jobs"] if not j.startswith("workflow-")
    ]
