"""Split/combine and workflows at scale: plait against Pydra 1.0a12, side by side.

    python benchmarks/bench_graph.py [--cases a,b,c,d,e] [--skip-pydra] [--pydra-timeout 900]

(a) a 1,000-element split of a trivial function on the cf worker, 2 processes,
    empty cache;
(b) a 2-node workflow (split node -> per-element node combined) over 1,000 on
    debug, empty cache;
(c) the cached rerun of (b): the whole workflow's cached result, and with the
    workflow's own cache entry removed so that every node job is looked up;
(d) a 100,000-job outer split on debug (100 x 1,000): time and peak RSS;
(e) a pipeline A.split(x over 200) -> B(A.out) on cf, 2 processes, where A[x]
    sleeps 1-50 ms (varying with x) and B 1 ms: plait's wall time against the
    lower bound max(longest chain, total work / processes). With per-job
    release B[x] starts when A[x] is done, so the wall time approaches the bound.

Each case runs in a fresh interpreter (plait here, Pydra in its own venv made
by ``_pydra_env.py``); times exclude interpreter start and imports. Figures
only: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: str) -> dict[str, float | int | bool]:
    """Run one plait case in this process; return its figures."""
    from plait import Submitter, python, workflow

    @python.define
    def Add1(x: int) -> int:
        return x + 1

    @python.define
    def Double(x: int) -> int:
        return 2 * x

    @python.define
    def Add(a: int, b: int) -> int:
        return a + b

    @workflow.define
    def TwoNode(xs: list[int]) -> list[int]:
        a = workflow.add(Add1().split(x=xs), name="a")
        b = workflow.add(Double(x=a.out).combine("a.x"), name="b")
        return b.out

    root = tempfile.mkdtemp(prefix="plait-bench-")
    try:
        if case == "a":
            xs = list(range(1000))
            t0 = time.perf_counter()
            with Submitter(worker="cf", n_procs=2, cache_root=root) as sub:
                out = sub(Add1().split(x=xs)).outputs.out
            wall = time.perf_counter() - t0
            return {"wall_s": wall, "ok": out == [x + 1 for x in xs]}
        if case in ("b", "c"):
            xs = list(range(1000))
            expected = [2 * (x + 1) for x in xs]
            t0 = time.perf_counter()
            with Submitter(worker="debug", cache_root=root) as sub:
                out = sub(TwoNode(xs=xs)).outputs.out
            first = time.perf_counter() - t0
            if case == "b":
                return {"wall_s": first, "ok": out == expected}
            t0 = time.perf_counter()
            with Submitter(worker="debug", cache_root=root) as sub:
                out = sub(TwoNode(xs=xs)).outputs.out
            whole = time.perf_counter() - t0
            for wf_dir in Path(root).glob("workflow-*"):
                shutil.rmtree(wf_dir)
            t0 = time.perf_counter()
            with Submitter(worker="debug", cache_root=root) as sub:
                out2 = sub(TwoNode(xs=xs)).outputs.out
            nodes = time.perf_counter() - t0
            return {
                "wall_s": whole,
                "nodes_wall_s": nodes,
                "ok": out == expected and out2 == expected,
            }
        if case == "e":
            import time as _time

            @python.define
            def Slow(x: int) -> int:
                _time.sleep(_pipeline_ms(x) / 1000)
                return x

            @python.define
            def After(y: int) -> int:
                _time.sleep(0.001)
                return y

            @workflow.define
            def Pipeline(xs: list[int]) -> list[int]:
                a = workflow.add(Slow().split(x=xs), name="A")
                return workflow.add(After(y=a.out), name="B").out

            xs = list(range(200))
            t0 = time.perf_counter()
            with Submitter(worker="cf", n_procs=2, cache_root=root) as sub:
                out = sub(Pipeline(xs=xs)).outputs.out
            wall = time.perf_counter() - t0
            chains = [(_pipeline_ms(x) + 1) / 1000 for x in xs]
            bound = max(max(chains), sum(chains) / 2)
            return {"wall_s": wall, "bound_s": bound, "ok": out == xs}
        if case == "d":
            a, b = list(range(100)), list(range(1000))
            t0 = time.perf_counter()
            with Submitter(worker="debug", cache_root=root) as sub:
                out = sub(Add().split(["a", "b"], a=a, b=b)).outputs.out
            wall = time.perf_counter() - t0
            ok = len(out) == 100_000 and out[1001] == 1 + 1
            return {"wall_s": wall, "peak_rss_mb": _peak_rss_mb(), "ok": ok}
        raise SystemExit(f"unknown case {case!r}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _pipeline_ms(x: int) -> int:
    """Case (e): A[x]'s duration in ms, 1-50, spread over the elements."""
    return 1 + (x * 37) % 50


def _plait(case: str) -> dict[str, float | int | bool]:
    out = subprocess.run(
        [sys.executable, __file__, "--run-case", case], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _pydra(case: str, timeout: float) -> dict[str, object]:
    sys.path.insert(0, str(HERE))
    from _pydra_env import run_pydra_benchmark

    if case == "a":
        return run_pydra_benchmark("split_cf", n=1000, procs=2, timeout=timeout)
    if case == "b":
        return run_pydra_benchmark("workflow_debug", n=1000, timeout=timeout)
    if case == "c":
        whole = run_pydra_benchmark("workflow_debug", n=1000, rerun=True, timeout=timeout)
        nodes = run_pydra_benchmark(
            "workflow_debug", n=1000, rerun=True, rerun_scope="nodes", timeout=timeout
        )
        return {**whole, "nodes_wall_s": nodes.get("wall_s"), "timed_out": whole["timed_out"]}
    if case == "e":
        return {}
    return run_pydra_benchmark("outer_split_debug", n1=100, n2=1000, timeout=timeout)


GOALS = {
    "a": "plait >= 25x faster",
    "b": ">= 30x faster",
    "c": "<= 0.5 s",
    "d": "<= 40 s, 1 GB",
    "e": "near the bound",
}
TITLES = {
    "a": "(a) 1,000-element split, cf, 2 procs",
    "b": "(b) 2-node workflow over 1,000, debug",
    "c": "(c) cached rerun of (b)",
    "d": "(d) 100,000-job outer split, debug",
    "e": "(e) pipeline A(1-50 ms) -> B over 200, cf 2",
}


def _fmt(res: dict[str, object], key: str = "wall_s") -> str:
    if res.get("timed_out"):
        return f">{res.get('elapsed', 0):.0f} s (timed out)"
    value = res.get(key)
    return f"{value:.3f} s" if isinstance(value, float) else "-"


def main() -> None:
    """Run the chosen cases on both sides and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default="a,b,c,d,e")
    parser.add_argument("--skip-pydra", action="store_true")
    parser.add_argument("--pydra-timeout", type=float, default=900)
    parser.add_argument("--run-case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_case:
        print(json.dumps(run_case(args.run_case)))
        return
    for case in args.cases.split(","):
        mine = _plait(case)
        theirs = {} if args.skip_pydra else _pydra(case, args.pydra_timeout)
        line = f"{TITLES[case]:42} plait {_fmt(mine):>12}"
        if case == "c":
            line += f" (nodes only: {_fmt(mine, 'nodes_wall_s')})"
        if case == "d":
            line += f", peak RSS {mine['peak_rss_mb']:.0f} MB"
        if case == "e":
            line += (
                f" (lower bound {mine['bound_s']:.3f} s: {mine['wall_s'] / mine['bound_s']:.2f}x)"
            )
        if theirs:
            line += f" | pydra {_fmt(theirs):>14}"
            if case == "c":
                line += f" (nodes only: {_fmt(theirs, 'nodes_wall_s')})"
            ratio = (
                theirs.get("wall_s") / mine["wall_s"]  # type: ignore[operator]
                if not theirs.get("timed_out") and isinstance(theirs.get("wall_s"), float)
                else None
            )
            if ratio:
                line += f" -> {ratio:.0f}x"
        line += f"   [goal: {GOALS[case]}]"
        if not mine.get("ok"):
            line += "  (plait outputs WRONG)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
