"""A split of trivial jobs through ``to_dag`` + ``dag.test()`` vs a hand-written TaskFlow DAG.

    python benchmarks/bench_airflow.py [--repeat 3] [--n 200] [--jobs-per-task 25]

Sets up its own AIRFLOW_HOME (sqlite DB migrated once), writes the DAG files
into its DAGS_FOLDER, runs each ``--repeat`` times alternately (each plait run
on an empty cache, so every job really runs; the "cached" row re-runs the
batched DAG on the cache its previous run filled) after one warm-up run of
each, and prints the figures. DAGs:

- plait batched: ``to_dag(..., jobs_per_task=25)`` (8 task instances for 200);
- plait default: no ``jobs_per_task`` (``[plait] max_tasks_per_node`` = 64 ->
  50 batches of 4 for 200);
- plait unbatched: ``jobs_per_task=1`` (one task instance per job);
- TaskFlow: ``.expand`` over n plus a gathering task, and ``.expand`` alone.

Goal (issue 12): plait batched <= 0.25x the hand-written TaskFlow DAG.
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

CACHE = os.environ.get("BENCH_CACHE", "/tmp/bench-cache")
for dag_id, per_task in [("bench_plait_batched", {jpt}), ("bench_plait_default", None),
                         ("bench_plait_unbatched", 1)]:
    globals()[dag_id] = to_dag(TenToThePower().split(p=list(range({n}))), dag_id=dag_id,
                               cache_root=CACHE, schedule=None, jobs_per_task=per_task)
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
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jobs-per-task", type=int, default=25)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="plait-bench-airflow-"))
    dags = home / "dags"
    dags.mkdir()
    (dags / "bench_tasks.py").write_text(TASKS)
    (dags / "bench_plait.py").write_text(
        textwrap.dedent(PLAIT_DAG.format(n=args.n, jpt=args.jobs_per_task))
    )
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
        "batched": bag.get_dag("bench_plait_batched"),
        "cached": bag.get_dag("bench_plait_batched"),
        "default": bag.get_dag("bench_plait_default"),
        "unbatched": bag.get_dag("bench_plait_unbatched"),
        "taskflow": bag.get_dag("bench_taskflow"),
        "map-only": bag.get_dag("bench_taskflow_map_only"),
    }

    def run(which: str, rep: int) -> float:
        # "cached" reruns the batched DAG on the cache the batched run just filled
        cache = "batched" if which == "cached" else which
        os.environ["BENCH_CACHE"] = str(home / f"cache-{cache}-{rep}")
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
        "batched": f"to_dag, jobs_per_task={args.jobs_per_task}",
        "cached": f"to_dag, jobs_per_task={args.jobs_per_task}, all cached",
        "default": "to_dag, default batches",
        "unbatched": "to_dag, jobs_per_task=1",
        "taskflow": "TaskFlow: .expand + gather task",
        "map-only": "TaskFlow: .expand only",
    }
    print(f"{args.n}-element split, dag.test(), median of {args.repeat}:")
    for which, ts in times.items():
        runs = ", ".join(f"{x:.2f}" for x in ts)
        ratio = med[which] / med["taskflow"]
        print(f"  {names[which]:44s} {med[which]:6.2f} s  {ratio:5.2f}x TaskFlow   runs: {runs}")
    print("  (goal: batched <= 0.25x TaskFlow .expand + gather)")


if __name__ == "__main__":
    main()
