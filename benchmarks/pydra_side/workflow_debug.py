"""Pydra side: a 2-node split/propagate/combine workflow on the debug worker.

    python workflow_debug.py --n 1000 [--rerun [--rerun-scope workflow|nodes]] [--timeout S]

Node A (Add1) is split over x = range(n); node B (Double) takes A.out per
element (the state propagates from A) and combines over A.x, so the workflow
output is the list [2 * (x + 1) for x in range(n)].

Without --rerun: one timed run on an empty cache.
With --rerun: one untimed run, then the timed second run in the SAME cache root.
  --rerun-scope workflow (default): the cache is left as is, so Pydra finds the
      workflow's own cached result and returns without visiting the nodes;
  --rerun-scope nodes: the workflow-level job directories (workflow-*) are
      deleted before the second run, so Pydra re-walks the graph and finds
      each of the 2n node jobs in the cache.

Prints one JSON line: wall_s (the timed run: task construction + Submitter +
run + result collection), first_run_s (with --rerun), import_s, peak_rss_mb,
n_results, ok, cache_dirs / cache_results, plus the parameters.
"""

import time

_t_import = time.perf_counter()

import glob  # noqa: E402
import shutil  # noqa: E402

from _common import count_cache_dirs, main, make_parser, peak_rss_mb  # noqa: E402

from pydra.compose import python, workflow  # noqa: E402
from pydra.engine.submitter import Submitter  # noqa: E402

IMPORT_S = time.perf_counter() - _t_import


@python.define
def Add1(x: int) -> int:
    return x + 1


@python.define
def Double(x: int) -> int:
    return 2 * x


@workflow.define
def TwoNode(xs: list[int]) -> list[int]:
    a = workflow.add(Add1().split(x=xs), name="a")
    b = workflow.add(Double(x=a.out).combine("a.x"), name="b")
    return b.out


def _run_once(xs, cache_dir):
    t0 = time.perf_counter()
    with Submitter(worker="debug", cache_root=cache_dir) as sub:
        result = sub(TwoNode(xs=xs))
    wall = time.perf_counter() - t0
    if result.errored:
        raise SystemExit(f"Pydra run errored; see {cache_dir}")
    return wall, list(result.outputs.out)


def body(args, cache_dir):
    xs = list(range(args.n))
    res = {"worker": "debug"}
    if args.rerun:
        first, _ = _run_once(xs, cache_dir)
        res["first_run_s"] = round(first, 4)
        if args.rerun_scope == "nodes":
            wf_dirs = glob.glob(f"{cache_dir}/workflow-*")
            for d in wf_dirs:
                shutil.rmtree(d)
            res["workflow_dirs_removed"] = len(wf_dirs)
    wall, out = _run_once(xs, cache_dir)
    res.update(
        wall_s=round(wall, 4),
        import_s=round(IMPORT_S, 4),
        peak_rss_mb=peak_rss_mb(),
        n_results=len(out),
        ok=out == [2 * (x + 1) for x in xs],
        **count_cache_dirs(cache_dir),
    )
    return res


if __name__ == "__main__":
    p = make_parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="number of split elements")
    p.add_argument("--rerun", action="store_true", help="time the second, cached run")
    p.add_argument("--rerun-scope", choices=("workflow", "nodes"), default="workflow")
    main(p, body, "workflow_debug")
