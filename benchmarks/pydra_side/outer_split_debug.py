"""Pydra side: an outer split over two fields of a trivial task, debug worker.

    python outer_split_debug.py --n1 316 --n2 317 [--timeout S]

Runs Add(a, b) = a + b split as ["a", "b"] (outer product) with
a = range(n1), b = range(n2), i.e. n1 * n2 jobs, on an empty cache.
Use --timeout: at 100,000 jobs Pydra is very slow; on timeout the child is
killed and the JSON is {"timed_out": true, "elapsed": ..., "peak_rss_mb_at_kill",
"cache_dirs", "cache_results" (jobs finished when killed), ...}.

Otherwise prints one JSON line: wall_s (task construction + Submitter + run
+ result collection), import_s, peak_rss_mb, n_tasks, n_results, ok,
cache_dirs / cache_results, elapsed (with --timeout: whole child incl.
interpreter start and imports), plus the parameters.
"""

import time

_t_import = time.perf_counter()

from _common import count_cache_dirs, main, make_parser, peak_rss_mb  # noqa: E402

from pydra.compose import python  # noqa: E402
from pydra.engine.submitter import Submitter  # noqa: E402

IMPORT_S = time.perf_counter() - _t_import


@python.define
def Add(a: int, b: int) -> int:
    return a + b


def _flatten(out):
    flat = []
    for item in out:
        if isinstance(item, list):
            flat.extend(_flatten(item))
        else:
            flat.append(item)
    return flat


def body(args, cache_dir):
    a_vals, b_vals = list(range(args.n1)), list(range(args.n2))
    t0 = time.perf_counter()
    task = Add().split(["a", "b"], a=a_vals, b=b_vals)
    with Submitter(worker="debug", cache_root=cache_dir) as sub:
        result = sub(task)
    wall = time.perf_counter() - t0
    if result.errored:
        raise SystemExit(f"Pydra run errored; see {cache_dir}")
    out = _flatten(list(result.outputs.out))
    return {
        "worker": "debug",
        "wall_s": round(wall, 4),
        "import_s": round(IMPORT_S, 4),
        "peak_rss_mb": peak_rss_mb(),
        "n_tasks": args.n1 * args.n2,
        "n_results": len(out),
        "ok": sorted(out) == sorted(a + b for a in a_vals for b in b_vals),
        **count_cache_dirs(cache_dir),
    }


if __name__ == "__main__":
    p = make_parser(__doc__.splitlines()[0])
    p.add_argument("--n1", type=int, required=True, help="length of a")
    p.add_argument("--n2", type=int, required=True, help="length of b")
    main(p, body, "outer_split_debug")
