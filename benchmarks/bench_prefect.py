"""plait on Prefect against hand-written Prefect code, in paired rounds on one server.

Measures (figures only, nothing asserted):

a. a ``--n``-job split (1,000 by default) through ``worker="prefect"`` against a
   hand-written flow that calls ``task.submit`` ``--n`` times on the same
   function, both on the same bounded ``ThreadPoolTaskRunner``;
b. the same split again, every job in plait's cache, against an empty flow run;
c. a ``--dask-n``-job split (200) on prefect-dask's ``DaskTaskRunner`` against
   hand-written ``.submit`` on the same ``LocalCluster(2)``.

Each round runs both sides back to back (alternating which goes first) on one
``prefect_test_harness`` server, and after every run waits until the server has
recorded every task run of it (*drain*), so one run's backlog does not slow the
next. Ratios are per round, then the median. Run it in the ``prefect`` tox env::

    .tox/prefect/bin/python benchmarks/bench_prefect.py --n 1000 --dask-n 200 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-home-"))

import httpx
from prefect import Flow, Task, flow
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.settings import PREFECT_API_URL
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.testing.utilities import prefect_test_harness

from plait import Submitter, python
from plait_prefect.worker import default_max_workers


@python.define
def Inc(i: int) -> int:
    """i + 1 (the plait side)."""
    return i + 1


def inc(i: int) -> int:
    """i + 1 (the hand-written side)."""
    return i + 1


INC = Task(inc, name="Inc", cache_policy=NO_CACHE, persist_result=False)


def hand_written(n: int) -> Any:
    """``INC.submit`` n times, then wait for all: what a Prefect user writes by hand."""
    futures = [INC.submit(i) for i in range(n)]
    wait(futures)
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    assert ctx is not None and ctx.flow_run is not None
    return ctx.flow_run.id


@flow(persist_result=False)
def empty() -> Any:
    """A flow run with nothing in it."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    assert ctx is not None and ctx.flow_run is not None
    return ctx.flow_run.id


def count_completed(flow_run_id: Any) -> int:
    """Task runs of a flow run the server has recorded as Completed."""
    body = {
        "flow_runs": {"id": {"any_": [str(flow_run_id)]}},
        "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
    }
    r = httpx.post(f"{PREFECT_API_URL.value()}/task_runs/count", json=body, timeout=60)
    r.raise_for_status()
    return int(r.json())


def drain(flow_run_id: Any, n: int, limit: float = 600.0) -> float:
    """Wait until the server has recorded the flow run's n task runs; return the wait."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        try:
            if count_completed(flow_run_id) >= n:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        print(f"    (drain gave up after {limit:.0f} s)", flush=True)
    return time.perf_counter() - t0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_plait(n: int, cache: str, **worker: Any) -> tuple[float, Any]:
    def go() -> Any:
        with Submitter(worker="prefect", cache_root=cache, **worker) as sub:
            result = sub(Inc().split(i=list(range(n))))
            flow_run_id = sub.worker.flow_run_id
        assert not result.errored, result.errors[:1]
        assert result.outputs.out[-1] == n
        return flow_run_id

    return timed(go)


def paired(
    label: str,
    rounds: int,
    n: int,
    hand: Callable[[], tuple[float, Any]],
    plait_run: Callable[[int], tuple[float, Any]],
) -> None:
    """Run both sides per round, drained, alternating order; print runs and ratios."""
    hand_t: list[float] = []
    plait_t: list[float] = []
    ratios: list[float] = []
    for r in range(rounds):
        sides = [("hand", hand), ("plait", lambda r=r: plait_run(r))]
        if r % 2:
            sides.reverse()
        got = {}
        for side, fn in sides:
            try:
                seconds, flow_run_id = fn()
            except Exception as exc:  # a loaded server may answer 503: report, go on
                print(f"  round {r + 1} {side}: failed: {exc!r}", flush=True)
                continue
            waited = drain(flow_run_id, n)
            got[side] = seconds
            print(
                f"  round {r + 1} {side:5s}: {seconds:7.2f} s   (server drain {waited:5.1f} s)",
                flush=True,
            )
        if "hand" in got and "plait" in got:
            hand_t.append(got["hand"])
            plait_t.append(got["plait"])
            ratios.append(got["plait"] / got["hand"])
    if ratios:
        print(
            f"{label}: hand-written median {statistics.median(hand_t):.2f} s, plait median "
            f"{statistics.median(plait_t):.2f} s, ratio per round "
            f"{', '.join(f'{x:.2f}' for x in ratios)} -> median {statistics.median(ratios):.2f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="jobs of the thread-runner split")
    parser.add_argument("--dask-n", type=int, default=200, help="jobs of the Dask split (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-workers", type=int, default=default_max_workers())
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench-prefect-cache-")
    print(
        f"python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}, "
        f"ThreadPoolTaskRunner(max_workers={args.max_workers})",
        flush=True,
    )

    t0 = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=300):
        print(f"server start {time.perf_counter() - t0:.1f} s", flush=True)
        runner = ThreadPoolTaskRunner(max_workers=args.max_workers)
        hand_flow: Flow[..., Any] = Flow(
            hand_written, name="hand-written", task_runner=runner, persist_result=False
        )
        timed(lambda: hand_flow(10))  # warm-up: first flow run, task registration
        run_plait(10, f"{root}/warm", max_workers=args.max_workers)

        print(f"\na. {args.n}-job split, ThreadPoolTaskRunner, paired rounds", flush=True)
        paired(
            "a",
            args.rounds,
            args.n,
            lambda: timed(lambda: hand_flow(args.n)),
            lambda r: run_plait(args.n, f"{root}/a{r}", max_workers=args.max_workers),
        )

        print("\nb. the same split, every job in plait's cache, against an empty flow run")
        empties, cached = [], []
        for r in range(args.rounds):
            seconds, flow_run_id = timed(lambda: empty())
            drain(flow_run_id, 0)
            empties.append(seconds)
            seconds, flow_run_id = run_plait(args.n, f"{root}/a0", max_workers=args.max_workers)
            cached.append(seconds)
            time.sleep(1.0)  # task-run events, if there were any, would have arrived
            made = count_completed(flow_run_id) if flow_run_id is not None else 0
            print(
                f"  round {r + 1}: empty flow run {empties[-1]:.2f} s, plait all cached "
                f"{seconds:.2f} s (task runs made: {made})",
                flush=True,
            )
        print(
            f"b: empty flow run median {statistics.median(empties):.2f} s, all-cached plait "
            f"median {statistics.median(cached):.2f} s (goal <= empty + 1 s)",
            flush=True,
        )

        if args.dask_n:
            dask_section(args, root)


def dask_section(args: argparse.Namespace, root: str) -> None:
    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    n = args.dask_n
    print(f"\nc. {n}-job split on DaskTaskRunner, LocalCluster(2 workers x 1 thread)", flush=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        with Client(address) as client:
            seconds, _ = timed(lambda: client.gather(client.map(inc, range(n), pure=False)))
            print(f"  raw client.map + gather x {n}: {seconds:.2f} s", flush=True)
        hand_flow: Flow[..., Any] = Flow(
            hand_written,
            name="hand-written-dask",
            persist_result=False,
            task_runner=DaskTaskRunner(address=address),
        )
        seconds, _ = timed(lambda: hand_flow(10))
        print(f"  first flow on fresh workers (10 tasks): {seconds:.1f} s", flush=True)
        run_plait(10, f"{root}/dwarm", task_runner=DaskTaskRunner(address=address))
        paired(
            "c",
            args.rounds,
            n,
            lambda: timed(lambda: hand_flow(n)),
            lambda r: run_plait(n, f"{root}/d{r}", task_runner=DaskTaskRunner(address=address)),
        )


if __name__ == "__main__":
    main()
