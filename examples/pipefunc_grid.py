"""pipefunc's map-reduce over a 2-D grid on plait, with a partial combine and per-node resources.

``Simulate`` runs once per point of the grid ``alpha`` × ``seed`` (an outer
split: 3 × 4 = 12 jobs). Combining only ``seed`` leaves one list per ``alpha``,
so ``Average`` runs once per alpha (3 jobs, a partial reduction, like
pipefunc's ``mapspec`` ``"y[i, :] -> mean[i]"``); ``Best`` reduces what is left.
Each node declares the resources its jobs need (``cpus=``, ``memory=``), which
the ``dask`` worker turns into Dask worker resources and dask-jobqueue batch
job sizes.

Run it::

    python examples/pipefunc_grid.py [--worker cf] [--cache-root DIR]

Expected output::

    jobs per node: Simulate 12, Average 3, Best 1
    resources: Simulate cpus=1 memory=200MB, Average cpus=1 memory=100MB
    mean per alpha: [1.0, 2.0, 3.0]
    best alpha: 0.3 (mean 3.0)
"""

from __future__ import annotations

import argparse

import plait
from plait import Submitter, python, workflow


@python.define(cpus=1, memory="200MB")
def Simulate(alpha: float, seed: int) -> float:
    """A stand-in simulation: deterministic in ``alpha`` and ``seed``."""
    return alpha * 10 * (seed % 2 + 0.5)


@python.define(cpus=1, memory="100MB")
def Average(values: list[float]) -> float:
    """The mean of ``values``."""
    return round(sum(values) / len(values), 6)


@python.define(outputs=["alpha", "mean"])
def Best(alphas: list[float], means: list[float]) -> tuple[float, float]:
    """The alpha with the largest mean."""
    mean, alpha = max(zip(means, alphas))
    return alpha, mean


@workflow.define(outputs=["means", "best_alpha", "best_mean"])
def Grid(alphas: list[float], seeds: list[int]) -> tuple[list[float], float, float]:
    """Simulate the grid, average over seeds per alpha, pick the best alpha."""
    sim = workflow.add(Simulate().split(alpha=alphas, seed=seeds).combine("seed"))
    avg = workflow.add(Average(values=sim.out).combine("Simulate.alpha"))
    best = workflow.add(Best(alphas=alphas, means=avg.out))
    return avg.out, best.alpha, best.mean


def main() -> None:
    """Run the grid and print its shape, its resources and its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", default="cf", help="debug, cf (default), dask ...")
    parser.add_argument("--cache-root", default=None, help="default: $PLAIT_CACHE_ROOT or ~/.cache")
    args = parser.parse_args()

    grid = Grid(alphas=[0.1, 0.2, 0.3], seeds=[1, 2, 3, 4])
    graph = plait.compile(grid)
    counts = {name: 0 for name in graph.nodes}
    options = {"n_procs": 2} if args.worker == "cf" else {}

    def count(event: plait.Progress) -> None:
        if event.status in ("submitted", "cached"):
            counts[event.label.partition("[")[0]] += 1

    with Submitter(
        worker=args.worker, cache_root=args.cache_root, progress=count, **options
    ) as sub:
        result = sub(grid)
    result.raise_for_errors()
    print("jobs per node:", ", ".join(f"{n} {c}" for n, c in counts.items()))
    res = {n: graph.nodes[n].resources for n in ("Simulate", "Average")}
    print(
        "resources:",
        ", ".join(
            f"{n} cpus={r.cpus} memory={r.memory // 10**6}MB"
            for n, r in res.items()
            if r is not None
        ),
    )
    print("mean per alpha:", result.outputs.means)
    print(f"best alpha: {result.outputs.best_alpha} (mean {result.outputs.best_mean})")


if __name__ == "__main__":
    main()
