"""Run every case of cases.py in the Pydra venv, each in its own session with a timeout.

    python run_all.py [--timeout 120] [--only NAME ...] [--workers debug cf] [--json out.json]

Any Python works to run this driver (stdlib only); the cases run with
benchmarks/.venvs/pydra/bin/python and NO_ET=1. A case still running after the
timeout has its whole process group SIGKILLed and is reported as "timed_out".
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = HERE.parent.parent / ".venvs" / "pydra" / "bin" / "python"


def run_case(name: str, worker: str, timeout: float) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NO_ET"] = "1"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(PY), str(HERE / "cases.py"), name, "--worker", worker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"case": name, "worker": worker, "status": "timed_out", "after_s": timeout}
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        return {
            "case": name,
            "worker": worker,
            "status": f"crashed (exit {proc.returncode})",
            "stderr_tail": err.strip().splitlines()[-3:],
        }
    res = json.loads(lines[-1])
    res["elapsed_s"] = round(time.perf_counter() - t0, 2)
    return res


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--only", nargs="*")
    p.add_argument("--workers", nargs="*", default=["debug"])
    p.add_argument("--json")
    args = p.parse_args()
    sys.path.insert(0, str(HERE))
    names = args.only
    if not names:
        # the case names, without importing pydra here
        import ast

        tree = ast.parse((HERE / "cases.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CASES":
                names = [k.value for k in node.value.keys]
    results = []
    for name in names:
        for worker in args.workers:
            res = run_case(name, worker, args.timeout)
            results.append(res)
            print(json.dumps(res), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
