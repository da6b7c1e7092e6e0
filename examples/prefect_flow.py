"""plait on Prefect 3, the three ways in: the shared driver, your own flow, a deployable flow.

Run it against a Prefect server (``prefect server start``, then
``PREFECT_API_URL=http://127.0.0.1:4200/api python examples/prefect_flow.py``),
or without one (Prefect then starts a temporary local server). Every plait job
becomes one task run named by its label (``TenToThePower[p=2]``); jobs found
in plait's cache make no task run.
"""

from __future__ import annotations

import os
import tempfile

from prefect import flow

from plait import Submitter, python, workflow
from plait_prefect import to_flow


@python.define
def TenToThePower(p: int) -> int:
    """Ten to the power ``p``."""
    return 10**p


@python.define
def Sum(xs: list[int]) -> int:
    """The sum of ``xs``."""
    return sum(xs)


@workflow.define(outputs=["powers", "total"])
def Powers(ps: list[int]) -> tuple[list[int], int]:
    """Powers of ten over ``ps``, and their sum."""
    pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
    total = workflow.add(Sum(xs=pw.out))
    return pw.out, total.out


CACHE = os.environ.get("PLAIT_CACHE_ROOT") or tempfile.mkdtemp(prefix="plait-example-")

# 3. a deployable flow: parameters are the workflow's inputs (ps: list[int]);
#    `prefect deploy examples/prefect_flow.py:powers` or `powers.serve(name="nightly")`
powers = to_flow(Powers, name="powers", cache_root=CACHE)


# 2. inside your own flow: the plait jobs become task runs of this flow run
@flow(persist_result=False)
def nightly(ps: list[int]) -> int:
    """A user's flow that runs the plait workflow as part of its work."""
    with Submitter(worker="prefect", cache_root=CACHE) as sub:
        result = sub(Powers(ps=ps))
    result.raise_for_errors()
    return int(result.outputs.total)


if __name__ == "__main__":
    # 1. the shared driver on Prefect: one host flow run, one task run per job
    with Submitter(worker="prefect", cache_root=CACHE, flow_name="powers-host") as sub:
        result = sub(Powers(ps=[1, 2, 3]))
    print("total =", result.outputs.total)  # 1110: TenToThePower[p=1..3], Sum
    print("nightly:", nightly(ps=[1, 2, 3, 4]))  # 11110; p=1..3 come from plait's cache
    print("powers flow:", powers(ps=[2, 3]))  # {'powers': [100, 1000], 'total': 1100}
