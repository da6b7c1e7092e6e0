"""The ``plait`` console script end to end, in subprocesses: run, graph and cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TASKS = f"{HERE / 'ux_tasks.py'}:SumOfSquares"
PLAIT = str(Path(sys.executable).parent / "plait")


def plait(*args: str, cache: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the console script with a cache root; output captured (so not a terminal)."""
    env = {**os.environ, "PLAIT_CACHE_ROOT": str(cache)}
    proc = subprocess.run(
        [PLAIT, *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_help_from_script_and_module() -> None:
    assert "run" in subprocess.run([PLAIT, "--help"], capture_output=True, text=True).stdout
    out = subprocess.run([sys.executable, "-m", "plait", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Usage: plait" in out.stdout


def test_run_piped_prints_outputs_and_no_control_sequences(cache: Path) -> None:
    proc = plait(
        "run", TASKS, "--input", "xs=[1, 2, 4]", "--worker", "cf", "--n-procs", "2", cache=cache
    )
    assert json.loads(proc.stdout) == {"squares": [1, 4, 16], "total": 21}
    assert "\x1b" not in proc.stdout + proc.stderr
    again = plait("run", TASKS, "-i", "xs=[1, 2, 4]", cache=cache)
    assert "served from the cache" in again.stderr or json.loads(again.stdout)["total"] == 21


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux `script` is not installed")
def test_run_in_a_terminal_shows_the_live_display(cache: Path) -> None:
    command = f"{PLAIT} run {TASKS} -i 'xs=[1, 2, 4]' --cache-root {cache}"
    proc = subprocess.run(
        ["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout
    assert "\x1b[" in proc.stdout  # a live display drawn with control sequences
    assert "Square" in proc.stdout and "3/3" in proc.stdout and "1/1" in proc.stdout


def test_inputs_from_json_and_yaml_files(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text('{"xs": [1, 2]}')
    assert (
        json.loads(plait("run", TASKS, "--inputs", str(tmp_path / "in.json"), cache=cache).stdout)[
            "total"
        ]
        == 5
    )
    pytest.importorskip("yaml")
    (tmp_path / "in.yaml").write_text("xs: [2, 4]\n")
    out = plait("run", TASKS, "--inputs", str(tmp_path / "in.yaml"), "-i", "xs=[1]", cache=cache)
    assert json.loads(out.stdout)["total"] == 1  # --input wins over the file


def test_failures_show_and_rm(cache: Path) -> None:
    failed = plait("run", TASKS, "-i", "xs=[1, 3]", cache=cache, check=False)
    assert failed.returncode == 1
    assert "Square[x=3]: ValueError: three is not allowed" in failed.stderr

    listing = plait("cache", "list", cache=cache).stdout
    assert "failed" in listing and "Square[x=3]" in listing and "Square[x=1]" in listing

    failures = plait("cache", "failures", cache=cache).stdout
    assert "Square[x=3]" in failures and "three is not allowed" in failures
    job = failures.split()[1]

    shown = plait("cache", "show", job[:16], cache=cache).stdout
    assert "x = 3" in shown and "state: failed" in shown
    assert f'File "{HERE / "ux_tasks.py"}", line' in shown

    assert job in plait("cache", "rm", "--failed", "--dry-run", cache=cache).stdout
    plait("cache", "rm", "--failed", cache=cache)
    assert "Square[x=3]" not in plait("cache", "list", cache=cache).stdout
    assert "Square[x=1]" in plait("cache", "list", cache=cache).stdout


def test_rm_by_node_and_age_leaves_running_jobs(cache: Path) -> None:
    plait("run", TASKS, "-i", "xs=[1, 2]", cache=cache)
    dirs = {p.name for p in cache.iterdir() if p.is_dir()}
    old = time.time() - 3 * 3600
    square_dirs = [
        p
        for p in cache.iterdir()
        if (p / "job.json").exists()
        and json.loads((p / "job.json").read_text())["node"] == "Square"
    ]
    assert len(square_dirs) == 2
    busy = square_dirs[0]  # as if a live process (this one) were running it
    (busy / ".lock").write_text(
        json.dumps({"pid": os.getpid(), "host": os.uname().nodename, "time": time.time()}) + "\n"
    )
    for p in square_dirs:
        os.utime(p, (old, old))
    out = plait("cache", "rm", "--node", "Square", "--older-than", "2h", cache=cache)
    assert f"skipped {busy.name}: in use" in out.stderr
    assert "removed 1 job(s)" in out.stderr
    left = {p.name for p in cache.iterdir() if p.is_dir()}
    assert left == dirs - {square_dirs[1].name}
    assert plait("cache", "rm", cache=cache, check=False).returncode == 2  # a filter is required


def test_graph_text_formats(cache: Path, tmp_path: Path) -> None:
    plait("graph", TASKS, "-i", "xs=[1, 2]", "-o", str(tmp_path / "wf.dot"), cache=cache)
    dot = (tmp_path / "wf.dot").read_text()
    assert '"Square" -> "Total" [label="out->values"];' in dot and "split x" in dot
    plait("graph", TASKS, "-i", "xs=[1, 2]", "-o", str(tmp_path / "wf.mmd"), cache=cache)
    assert 'n0 -->|"out->values"| n1' in (tmp_path / "wf.mmd").read_text()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_svg_and_coloured_run_picture(cache: Path, tmp_path: Path) -> None:
    plait("graph", TASKS, "-i", "xs=[1, 2]", "-o", str(tmp_path / "wf.svg"), cache=cache)
    assert "<svg" in (tmp_path / "wf.svg").read_text()
    plait(
        "run", TASKS, "-i", "xs=[3]", "--graph", str(tmp_path / "run.dot"), cache=cache, check=False
    )
    text = (tmp_path / "run.dot").read_text()
    assert 'fillcolor="#f4a6a6", tooltip="failed"' in text  # Square failed
    assert 'tooltip="skipped"' in text  # Total skipped


def test_user_mistakes_are_one_line_errors(cache: Path, tmp_path: Path) -> None:
    wrong = plait("run", TASKS, "-i", "xs=abc", cache=cache, check=False)
    assert wrong.returncode == 2
    assert "InputError: SumOfSquares.xs: expected list[int], got str 'abc'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    missing = plait("graph", TASKS, "-o", str(tmp_path / "g.dot"), cache=cache, check=False)
    assert missing.returncode == 2 and "missing mandatory input(s): xs" in missing.stderr
    unknown = plait("run", "no_such_module:X", cache=cache, check=False)
    assert unknown.returncode == 2 and "cannot import 'no_such_module'" in unknown.stderr
