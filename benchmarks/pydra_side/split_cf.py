"""Pydra side: an N-element split of a trivial python task on the cf worker.

    python split_cf.py --n 1000 --procs 2 [--timeout S]

Prints one JSON line: wall_s (Submitter construction + run + result
collection, excluding imports), import_s, peak_rss_mb (this process),
peak_rss_children_mb (largest cf worker process), n_results, ok,
cache_dirs / cache_results (job directories written), plus the parameters.
The cache root is a fresh temporary directory (empty cache).
"""

import time

_t_import = time.perf_counter()

from _common import count_cache_dirs, main, make_parser, peak_rss_mb  # noqa: E402
import resource  # noqa: E402

from pydra.compose import python  # noqa: E402
from pydra.engine.submitter import Submitter  # noqa: E402

IMPORT_S = time.perf_counter() - _t_import


@python.define
def Add1(x: int) -> int:
    return x + 1


def body(args, cache_dir):
    xs = list(range(args.n))
    t0 = time.perf_counter()
    task = Add1().split(x=xs)
    with Submitter(worker="cf", n_procs=args.procs, cache_root=cache_dir) as sub:
        result = sub(task)
    wall = time.perf_counter() - t0
    if result.errored:
        raise SystemExit(f"Pydra run errored; see {cache_dir}")
    out = list(result.outputs.out)
    return {
        "worker": "cf",
        "wall_s": round(wall, 4),
        "import_s": round(IMPORT_S, 4),
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_children_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
        "n_results": len(out),
        "ok": out == [x + 1 for x in xs],
        **count_cache_dirs(cache_dir),
    }


if __name__ == "__main__":
    p = make_parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="number of split elements")
    p.add_argument("--procs", type=int, default=2, help="cf worker processes (n_procs)")
    main(p, body, "split_cf")
