"""Issue 12, must-holds 3 and 7: a to_dag DAG under a real Airflow 3 deployment.

The fixture starts the three Airflow 3 services on 127.0.0.1 — ``api-server``,
``dag-processor`` and ``scheduler`` with the LocalExecutor — on their own
AIRFLOW_HOME and sqlite metadata DB (``airflow db migrate``), and stops them
afterwards (each in its own process group, stopped by that group's id).

The test triggers a 20-element DAG with ``airflow dags trigger``, waits for
success, reads the outputs with ``run_outputs`` and checks that a DAG
scheduled on the node's asset ran after it. It then empties the cache,
triggers a second run, kill -9s the scheduler (its whole process group: the
executor's workers and running tasks die with it) once some jobs have
finished, restarts it, and checks the run still succeeds with no finished job
run twice (marker files written by every job at its start and at its end).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import REPO

ELEMENTS = 20

DAG_FILE = """
import datetime
import os
import uuid

from airflow.sdk import DAG, task
from counting_tasks import Marked
from plait_airflow import node_asset, to_dag

RUNS = {runs!r}

produce = to_dag(
    Marked(log_dir=RUNS, seconds=1.0).split(x=list(range({n}))),
    dag_id="plait_scheduled",
    cache_root={cache!r},
    schedule=None,
    node_options={{"Marked": {{"retries": 3, "retry_delay": datetime.timedelta(seconds=1)}}}},
)

with DAG("plait_asset_consumer", schedule=[node_asset("Marked", "Marked")]):

    @task
    def consume() -> None:
        with open(os.path.join({consumed!r}, uuid.uuid4().hex), "w"):
            pass

    consume()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Deployment:
    """An AIRFLOW_HOME with its services, started and stopped by the fixture."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.dags = home / "dags"
        self.dags.mkdir(parents=True)
        self.db = home / "airflow.db"
        port = _free_port()
        keep = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        self.env = {
            **keep,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API_AUTH__JWT_SECRET": "plait-test-" + os.urandom(8).hex(),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            # notice the killed scheduler and its tasks in seconds, not minutes
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join(
                [str(REPO / "tests" / "airflow"), str(REPO / "tests" / "conformance")]
            ),
        }
        self.port = port
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def airflow(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        exe = Path(sys.executable).with_name("airflow")
        return subprocess.run(
            [str(exe), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def start(self, name: str, *args: str) -> None:
        exe = Path(sys.executable).with_name("airflow")
        with open(self.home / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                [str(exe), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped by that group's id
            )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def start_scheduler(self) -> None:
        self.start("scheduler", "scheduler", "--skip-serve-logs")

    def run_state(self, dag_id: str, run_id: str | None = None) -> list[tuple[str, str]]:
        """(run_id, state) of the DAG's runs, oldest first, read from the metadata DB."""
        with sqlite3.connect(self.db, timeout=30) as con:
            sql = "select run_id, state from dag_run where dag_id = ?"
            params: tuple[str, ...] = (dag_id,)
            if run_id is not None:
                sql += " and run_id = ?"
                params += (run_id,)
            return [(str(r), str(s)) for r, s in con.execute(sql + " order by id", params)]

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"airflow {name} exited:\n{self.tail(name)}"
            time.sleep(1)
        logs = "\n".join(f"== {n}\n{self.tail(n)}" for n in ("scheduler", "dag-processor"))
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def run_outputs(self, dag_id: str, run_id: str) -> Any:
        """``plait_airflow.run_outputs`` of a run, read in a process configured for this DB."""
        code = textwrap.dedent(
            f"""
            import json
            from airflow.models.dagrun import DagRun
            from airflow.utils.session import create_session
            from plait_airflow import run_outputs

            with create_session() as session:
                run = session.query(DagRun).filter_by(dag_id={dag_id!r}, run_id={run_id!r}).one()
                print("OUTPUTS", json.dumps(run_outputs(run)))
            """
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], env=self.env, capture_output=True, text=True, timeout=180
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("OUTPUTS ")]
        assert line, proc.stdout[-2000:] + proc.stderr[-3000:]
        return json.loads(line[0][len("OUTPUTS ") :])


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """Airflow's api-server, dag-processor and scheduler (LocalExecutor, sqlite) on 127.0.0.1."""
    if shutil.which("airflow", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the airflow command is not installed next to this Python")
    try:
        _free_port()
    except OSError as exc:
        pytest.skip(f"cannot listen on 127.0.0.1 here: {exc}")
    home = Path(tempfile.mkdtemp(prefix="plait-airflow-deploy-"))
    dep = Deployment(home)
    proc = dep.airflow("db", "migrate")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    try:
        dep.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(dep.port))
        dep.start("dag-processor", "dag-processor")
        dep.start_scheduler()
        yield dep
    finally:
        for name in list(dep.procs):
            dep.kill(name, signal.SIGTERM)
        shutil.rmtree(home, ignore_errors=True)


def _markers(runs: Path) -> dict[int, dict[str, list[float]]]:
    """Per element: the times its job started and finished."""
    out: dict[int, dict[str, list[float]]] = {}
    for p in runs.iterdir():
        kind, rest = p.name.split("-", 1)
        x = int(rest.split(".")[0])
        out.setdefault(x, {"start": [], "done": []})[kind].append(float(p.read_text()))
    return out


@pytest.mark.timeout(900)
def test_trigger_asset_and_scheduler_killed_mid_run(deployment: Deployment) -> None:
    dep = deployment
    work = dep.home / "work"
    runs, cache, consumed = work / "runs", work / "cache", work / "consumed"
    for d in (runs, cache, consumed):
        d.mkdir(parents=True)
    dag_file = DAG_FILE.format(runs=str(runs), cache=str(cache), consumed=str(consumed), n=ELEMENTS)
    (dep.dags / "plait_scheduled.py").write_text(dag_file)
    dep.wait_for(
        "the DAGs to be parsed",
        lambda: _dag_ids(dep) >= {"plait_scheduled", "plait_asset_consumer"},
        timeout=180,
    )

    # 1. a whole run, triggered from the command line
    proc = dep.airflow("dags", "trigger", "plait_scheduled", "--run-id", "first")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    dep.wait_for(
        "the first run to finish",
        lambda: dep.run_state("plait_scheduled", "first")[0][1] in ("success", "failed"),
        timeout=300,
    )
    assert dep.run_state("plait_scheduled", "first") == [("first", "success")]
    assert dep.run_outputs("plait_scheduled", "first") == {"out": [x * x for x in range(ELEMENTS)]}
    first = _markers(runs)
    assert {x: (len(m["start"]), len(m["done"])) for x, m in first.items()} == {
        x: (1, 1) for x in range(ELEMENTS)
    }

    # 2. the asset the node emitted scheduled the consumer DAG
    dep.wait_for(
        "the asset-scheduled DAG to run",
        lambda: "success" in {s for _, s in dep.run_state("plait_asset_consumer")},
        timeout=180,
    )
    assert len(list(consumed.iterdir())) >= 1

    # 3. a second run on an empty cache; kill -9 the scheduler (and its workers) mid-run
    shutil.rmtree(cache)
    cache.mkdir()
    shutil.rmtree(runs)
    runs.mkdir()
    proc = dep.airflow("dags", "trigger", "plait_scheduled", "--run-id", "second")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    dep.wait_for(
        "some jobs of the second run to finish",
        lambda: sum(1 for p in runs.iterdir() if p.name.startswith("done-")) >= 3,
        timeout=300,
    )
    dep.kill("scheduler")
    killed_at = time.time()
    done_before = {x for x, m in _markers(runs).items() if m["done"]}
    assert len(done_before) < ELEMENTS, "the run finished before the scheduler was killed"
    dep.start_scheduler()
    dep.wait_for(
        "the second run to finish after the restart",
        lambda: dep.run_state("plait_scheduled", "second")[0][1] in ("success", "failed"),
        timeout=420,
    )
    assert dep.run_state("plait_scheduled", "second") == [("second", "success")]
    assert dep.run_outputs("plait_scheduled", "second") == {"out": [x * x for x in range(ELEMENTS)]}
    second = _markers(runs)
    assert sorted(second) == list(range(ELEMENTS))
    for x, m in second.items():
        # every job finished exactly once; none started again after it had finished
        assert len(m["done"]) == 1, (x, m)
        assert all(start <= m["done"][0] for start in m["start"]), (x, m)
    for x in done_before:
        assert second[x]["done"][0] < killed_at
        assert len(second[x]["start"]) == 1, (x, second[x])


def _dag_ids(dep: Deployment) -> set[str]:
    try:
        with sqlite3.connect(dep.db, timeout=30) as con:
            return {str(r[0]) for r in con.execute("select dag_id from serialized_dag")}
    except sqlite3.OperationalError:
        return set()
