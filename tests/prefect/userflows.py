"""Module-level flows of the tests: deployable ``to_flow`` flows and a user's own ``@flow``."""

from __future__ import annotations

import os
import tempfile

from prefect import flow
from prefect_tasks import Powers, SplitSum

from plait import Submitter
from plait_prefect import to_flow

#: the flows' plait cache (one per process that imports this module)
CACHE = os.environ.get("PLAIT_TEST_FLOW_CACHE") or tempfile.mkdtemp(prefix="plait-flows-")

powers = to_flow(Powers, name="powers", cache_root=CACHE)
powers_123 = to_flow(Powers(ps=[1, 2, 3]), name="powers_123", cache_root=CACHE)


@flow(name="user-flow", persist_result=False)
def user_flow(xs: list[int], cache_root: str) -> dict[str, object]:
    """A user's flow that runs a plait workflow inside: its jobs join this flow run."""
    from prefect.runtime import flow_run

    with Submitter(worker="prefect", cache_root=cache_root) as sub:
        result = sub(SplitSum(xs=xs))
        worker_flow_run = sub.worker.flow_run_id
    return {"total": result.outputs.out, "flow_run": flow_run.id, "worker": str(worker_flow_run)}
