"""A 50-element split through ``to_dag`` + ``dag.test()`` vs a hand-written TaskFlow DAG.

    python benchmarks/bench_airflow.py [--repeat 3] [--n 50]

Sets up its own AIRFLOW_HOME (sqlite DB migrated once), writes both DAG files
into its DAGS_FOLDER, runs each ``--repeat`` times alternately (each plait run
on an empty cache, so every job really runs) after one warm-up run of each,
and prints the figures. Goal (issue 5): to_dag <= 1.2x the TaskFlow DAG.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TASKS = """
from plait import python

@python.define
def TenToThePower(p: int) -> int:
    return 10 ** p
"""

PLAIT_DAG = """
import os
from bench_tasks import TenToThePower
from plait_airflow import to_dag

dag = to_dag(TenToThePower().split(p=list(range({n}))), dag_id="bench_plait",
             cache_root=os.environ.get("BENCH_CACHE", "/tmp/bench-cache"), schedule=None)
"""

TASKFLOW_DAG = """
from airflow.sdk import dag, task

@dag(dag_id="bench_taskflow", schedule=None)
def bench_taskflow():
    @task(map_index_template="{{{{ p }}}}")
    def ten_to_the_power(p: int) -> int:
        return 10 ** p

    @task
    def gather(values: list[int]) -> list[int]:
        return list(values)

    gather(ten_to_the_power.expand(p=list(range({n}))))

bench_taskflow()


@dag(dag_id="bench_taskflow_map_only", schedule=None)
def bench_taskflow_map_only():
    @task(map_index_template="{{{{ p }}}}")
    def ten_to_the_power(p: int) -> int:
        return 10 ** p

    ten_to_the_power.expand(p=list(range({n})))

bench_taskflow_map_only()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="plait-bench-airflow-"))
    dags = home / "dags"
    dags.mkdir()
    (dags / "bench_tasks.py").write_text(TASKS)
    (dags / "bench_plait.py").write_text(textwrap.dedent(PLAIT_DAG.format(n=args.n)))
    (dags / "bench_taskflow.py").write_text(textwrap.dedent(TASKFLOW_DAG.format(n=args.n)))
    (dags / ".airflowignore").write_text("bench_tasks.py\n")
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="ERROR",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    sys.path.insert(0, str(dags))
    t0 = time.perf_counter()
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
    print(f"airflow db migrate: {time.perf_counter() - t0:.1f} s")

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags))
    assert not bag.import_errors, bag.import_errors
    dags_by_name = {
        "plait": bag.get_dag("bench_plait"),
        "taskflow": bag.get_dag("bench_taskflow"),
        "map-only": bag.get_dag("bench_taskflow_map_only"),
    }

    def run(which: str, rep: int) -> float:
        os.environ["BENCH_CACHE"] = str(home / f"cache-{which}-{rep}")
        d = dags_by_name[which]
        start = time.perf_counter()
        dag_run = d.test()
        elapsed = time.perf_counter() - start
        assert str(dag_run.state) == "success", (which, dag_run.state)
        return elapsed

    for which in dags_by_name:
        print(f"warm-up {which}: {run(which, -1):.2f} s")
    times: dict[str, list[float]] = {which: [] for which in dags_by_name}
    for rep in range(args.repeat):
        for which in dags_by_name:
            times[which].append(run(which, rep))
    med = {which: statistics.median(ts) for which, ts in times.items()}
    names = {
        "plait": "to_dag: mapped run + collect + outputs",
        "taskflow": "TaskFlow: .expand + gather task",
        "map-only": "TaskFlow: .expand only",
    }
    print(f"{args.n}-element split, dag.test(), median of {args.repeat}:")
    for which, ts in times.items():
        runs = ", ".join(f"{x:.2f}" for x in ts)
        print(f"  {names[which]:40s} {med[which]:6.2f} s   runs: {runs}")
    print(f"  ratio to_dag / TaskFlow .expand + gather  {med['plait'] / med['taskflow']:.2f}x")
    print(f"  ratio to_dag / TaskFlow .expand only      {med['plait'] / med['map-only']:.2f}x")
    print("  (goal <= 1.2x)")


if __name__ == "__main__":
    main()
