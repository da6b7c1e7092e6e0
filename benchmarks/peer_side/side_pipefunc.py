"""pipefunc's side of bench_peers.py (run in the pipefunc venv: pipefunc + distributed).

Variants: ``disk`` (``Pipeline.map`` with ``run_folder`` on the benchmark's
disk: every output written to file arrays), ``mem`` (no ``run_folder``,
``storage="dict"``: results stay in memory), both on a
``ProcessPoolExecutor(procs)``; the ``dask`` workload uses
``client.get_executor()`` of a LocalCluster. Chunk sizes are pipefunc's own
(automatic) choice.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor

import _funcs
from _side import main


def _pipeline(reduce: bool, sleep: bool = False):  # type: ignore[no-untyped-def]
    from pipefunc import Pipeline, pipefunc

    fn = _funcs.add1_sleep if sleep else _funcs.add1
    funcs = [pipefunc(output_name="y", mapspec="x[i] -> y[i]")(fn)]
    if reduce:
        funcs.append(pipefunc(output_name="total")(_funcs.total))
    return Pipeline(funcs, validate_type_annotations=False)  # total takes the array


def _run(pipeline, n: int, variant: str, root: str, executor: Executor, folder: str | None = None):  # type: ignore[no-untyped-def]
    kwargs: dict[str, object] = {"parallel": True, "executor": executor, "show_progress": False}
    if variant == "disk":
        kwargs["run_folder"] = folder or tempfile.mkdtemp(prefix="pipefunc-", dir=root)
    else:
        kwargs["storage"] = "dict"
    return pipeline.map({"x": list(range(n))}, **kwargs)


def _map(n: int, variant: str, procs: int, root: str, sleep: bool = False) -> object:
    with ProcessPoolExecutor(procs) as pool:
        result = _run(_pipeline(False, sleep), n, variant, root, pool)
    return [int(v) for v in result["y"].output]


def _mapreduce(n: int, variant: str, procs: int, root: str) -> object:
    with ProcessPoolExecutor(procs) as pool:
        result = _run(_pipeline(True), n, variant, root, pool)
    return int(result["total"].output)


def _cached(n: int, variant: str, procs: int, root: str) -> tuple[float, object]:
    """The rerun with ``resume=True`` in the same run_folder (everything loaded, nothing run)."""
    folder = tempfile.mkdtemp(prefix="pipefunc-", dir=root)
    with ProcessPoolExecutor(procs) as pool:
        _run(_pipeline(True), n, "disk", root, pool, folder)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(procs) as pool:
        result = _pipeline(True).map(
            {"x": list(range(n))},
            run_folder=folder,
            parallel=True,
            executor=pool,
            show_progress=False,
            resume=True,
        )
        out = int(result["total"].output)
    return time.perf_counter() - t0, out


def _dask(n: int, variant: str, procs: int, root: str) -> tuple[float, object]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=procs, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        executor = client.get_executor()
        _run(_pipeline(False), 100, variant, root, executor)  # warm-up
        t0 = time.perf_counter()
        result = _run(_pipeline(False), n, variant, root, executor)
        out = [int(v) for v in result["y"].output]
        return time.perf_counter() - t0, out


def _version() -> str:
    import importlib.metadata

    return importlib.metadata.version("pipefunc")


if __name__ == "__main__":
    main(
        {
            "map": _map,
            "map-sleep": lambda n, v, p, d: _map(n, v, p, d, sleep=True),
            "mapreduce": _mapreduce,
            "cached": _cached,
            "dask": _dask,
            "cold": _map,
        },
        _version,
    )
