"""Shared plumbing for the Pydra-side benchmark scripts (runs in the Pydra venv).

Every script:
  * builds its argparse parser with ``make_parser`` (adds ``--timeout`` and the
    hidden ``--child-cache-dir`` used when re-running itself in a child);
  * implements ``body(args, cache_dir) -> dict`` and calls ``main(parser, body)``;
  * prints exactly one JSON object as its last stdout line.

With ``--timeout S`` the body runs in a child process (this same script, in its
own session so Pydra's worker processes die with it); if it is not done after
S seconds the whole process group is killed and the script prints
``{"timed_out": true, "elapsed": ..., ...}`` instead.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("NO_ET", "1")  # no etelemetry network check in Pydra


def make_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="run in a child process and kill it after this many seconds",
    )
    p.add_argument("--child-cache-dir", default=None, help=argparse.SUPPRESS)
    return p


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak RSS in MB (ru_maxrss is KiB on Linux). RUSAGE_CHILDREN: largest reaped child."""
    return round(resource.getrusage(who).ru_maxrss / 1024.0, 1)


def count_cache_dirs(cache_dir: str | Path) -> dict[str, int]:
    """Job directories in a Pydra cache root, and how many hold a result."""
    dirs = results = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(cache_dir):
            if entry.is_dir():
                dirs += 1
                if os.path.exists(os.path.join(entry.path, "_result.pklz")):
                    results += 1
    return {"cache_dirs": dirs, "cache_results": results}


def _meta() -> dict[str, Any]:
    return {
        "pydra_version": importlib.metadata.version("pydra"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def _params(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(args).items() if k not in ("child_cache_dir",)}


@contextlib.contextmanager
def _fresh_cache_dir():
    d = tempfile.mkdtemp(prefix="pydra-bench-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak RSS of a still-running process from /proc (Linux), in MB."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return None


def _run_in_child(args: argparse.Namespace, benchmark: str) -> dict[str, Any]:
    argv = [a for a in sys.argv[1:]]
    # drop --timeout from the child's argv so it runs in-process
    cleaned: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--timeout":
            skip = True
            continue
        if a.startswith("--timeout="):
            continue
        cleaned.append(a)
    with _fresh_cache_dir() as cache_dir:
        cmd = [sys.executable, os.path.abspath(sys.argv[0]), *cleaned, "--child-cache-dir", cache_dir]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            elapsed = time.perf_counter() - t0
            rss = _vm_hwm_mb(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            res = {
                "benchmark": benchmark,
                "timed_out": True,
                "elapsed": round(elapsed, 3),
                "peak_rss_mb_at_kill": rss,
                **count_cache_dirs(cache_dir),
                **_params(args),
                **_meta(),
            }
            return res
        lines = [ln for ln in out.splitlines() if ln.strip()]
        if proc.returncode != 0 or not lines:
            sys.stderr.write(err)
            raise SystemExit(f"child run failed with exit code {proc.returncode}")
        res = json.loads(lines[-1])
        res["timeout"] = args.timeout
        res["elapsed"] = round(time.perf_counter() - t0, 3)  # incl. child start + imports
        return res


def main(
    parser: argparse.ArgumentParser,
    body: Callable[[argparse.Namespace, str], dict[str, Any]],
    benchmark: str,
) -> None:
    args = parser.parse_args()
    if args.timeout is not None and args.child_cache_dir is None:
        res = _run_in_child(args, benchmark)
    else:
        if args.child_cache_dir is not None:  # parent owns (and removes) the dir
            res = body(args, args.child_cache_dir)
        else:
            with _fresh_cache_dir() as cache_dir:
                res = body(args, cache_dir)
        res = {"benchmark": benchmark, "timed_out": False, **res, **_params(args), **_meta()}
    sys.stdout.flush()
    print(json.dumps(res))
