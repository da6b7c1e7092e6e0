"""One Prefect API server for the whole test run, shared by tests/prefect and tests/conformance.

Both conftests take :func:`acquire` in a session fixture and :func:`release`
it at the end; the first acquire starts ``prefect_test_harness`` (SQLite, a
free port on 127.0.0.1, ``PREFECT_API_URL`` set for this process and the
threads and Dask workers it starts), the last release stops it. Never two
servers on a shared 2-core machine.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

_stack: contextlib.ExitStack | None = None
_users = 0
_dask_address: str | None = None

#: a cold server migrates its SQLite database: ~35 s on a loaded box (trap 1)
STARTUP_TIMEOUT = 180


def acquire() -> str:
    """Start the shared server if needed; return its API URL."""
    global _stack, _users
    if _stack is None:
        from prefect.testing.utilities import prefect_test_harness

        stack = contextlib.ExitStack()
        stack.enter_context(prefect_test_harness(server_startup_timeout=STARTUP_TIMEOUT))
        _stack = stack
    _users += 1
    return api_url()


def release() -> None:
    """Stop the shared server once its last user is done."""
    global _stack, _users, _dask_address
    _users -= 1
    if _users <= 0 and _stack is not None:
        stack, _stack, _dask_address = _stack, None, None
        stack.close()


def dask_address() -> str:
    """The scheduler address of the run's one LocalCluster (2 single-threaded worker
    processes advertising ``cpus=1``), started on first use *after* the API URL is set so
    its workers report to this server (trap 2); closed with the server."""
    global _dask_address
    if _stack is None:
        raise RuntimeError("acquire() the Prefect server before starting Dask")
    if _dask_address is None:
        from distributed import LocalCluster

        cluster = _stack.enter_context(
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                resources={"cpus": 1},
            )
        )
        _dask_address = str(cluster.scheduler_address)
    return _dask_address


def api_url() -> str:
    """The API URL of the running server."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


# -- reading the server (task-run states arrive as events: poll) -------------------

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def task_runs(flow_run_id: Any, expected: int, timeout: float = 90.0) -> list[Any]:
    """The task runs of a flow run, once ``expected`` of them exist and all are in a final state."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            done = [r for r in runs if r.state_type is not None and r.state_type.name in TERMINAL]
            if len(runs) >= expected and len(done) == len(runs):
                return list(runs)
            if time.monotonic() > deadline:
                states = sorted(f"{r.name}:{r.state_type}" for r in runs)
                raise AssertionError(
                    f"flow run {flow_run_id}: expected {expected} finished task runs within "
                    f"{timeout:.0f} s, the server has {len(runs)}: {states}"
                )
            time.sleep(0.5)


def flow_run(flow_run_id: Any, timeout: float = 90.0) -> Any:
    """The flow run, once it is in a final state."""
    from prefect import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(flow_run_id)
            if run.state_type is not None and run.state_type.name in TERMINAL:
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"flow run {flow_run_id} still {run.state_type}")
            time.sleep(0.5)
