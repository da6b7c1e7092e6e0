"""plait_dask.to_dask: a Dask collection for workflows with static state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask
import pytest
from dask.utils import key_split
from dask_tasks import (
    Outer,
    PartialFailure,
    Powers,
    RuntimeSplit,
    SplitPropagateCombine,
    TenToThePower,
)

from plait import JobFailedError, Submitter, TaskHooks
from plait_dask import to_dask
from plait_dask.collection import RuntimeStateError


def test_static_workflow_computes_on_local_schedulers(cache: Path) -> None:
    collection = to_dask(Powers(ps=[1, 2, 3]), cache_root=cache)
    (sync,) = dask.compute(collection, scheduler="sync")
    (threads,) = dask.compute(collection, scheduler="threads")
    assert sync.powers == threads.powers == [10, 100, 1000]
    assert sync.total == 1110


def test_same_outputs_and_cache_as_the_driver(client: Any, tmp_path: Path) -> None:
    for defn in [
        SplitPropagateCombine(xs=[1, 2, 3], k=10),
        Outer(xs=[1, 2], k=3),
        TenToThePower().split(p=[1, 2]),
        SplitPropagateCombine(k=2).split(xs=[[1, 2], [3]]),
    ]:
        via_dask = client.compute(to_dask(defn, cache_root=tmp_path / "a")).result()
        with Submitter(worker="debug", cache_root=tmp_path / "b") as sub:
            via_driver = sub(defn).outputs
        assert via_dask == via_driver
    jobs_a = {p.parent.name for p in (tmp_path / "a").glob("*/result.pkl")}
    jobs_b = {p.parent.name for p in (tmp_path / "b").glob("*/result.pkl")}
    # the Submitter also caches each whole workflow (one more directory per workflow)
    assert jobs_a and jobs_a <= jobs_b
    assert {j for j in jobs_b - jobs_a if not j.startswith("workflow-")} == set()


def test_keys_are_named_after_node_and_state(cache: Path) -> None:
    collection = to_dask(Powers(ps=[1, 2]), cache_root=cache)
    keys = [str(k) for k in dict(collection.__dask_graph__())]
    names = {key_split(k) for k in keys}
    assert {"TenToThePower", "Sum"} <= names
    states = sorted(k[k.index("[") :] for k in keys if key_split(k) == "TenToThePower")
    assert states == ["[p=1]", "[p=2]"]


def test_the_cache_is_shared_with_the_driver(cache: Path) -> None:
    dask.compute(to_dask(Powers(ps=[4, 5]), cache_root=cache), scheduler="sync")
    ran: list[str] = []
    with Submitter(
        cache_root=cache, hooks=TaskHooks(pre_run_task=lambda j: ran.append(j.label))
    ) as sub:
        assert sub(Powers(ps=[4, 5])).outputs.total == 110000
    assert ran == ["Powers"]  # only the whole-workflow record; every job was cached


def test_runtime_dependent_state_is_rejected_clearly(cache: Path) -> None:
    with pytest.raises(RuntimeStateError, match=r"Identity: splits 'x' over the output Range\.out"):
        to_dask(RuntimeSplit(ns=[1, 2]), cache_root=cache)


def test_failures_raise_or_come_back_as_none(cache: Path) -> None:
    defn = PartialFailure(xs=[1, 2, 3], bad=2)
    with pytest.raises(JobFailedError, match=r"FailOn\[x=2\]"):
        dask.compute(to_dask(defn, cache_root=cache), scheduler="sync")
    (out,) = dask.compute(to_dask(defn, cache_root=cache, raise_errors=False), scheduler="sync")
    assert out.kept == [2, None, 4]
    assert out.total is None


def test_a_job_missing_from_its_row_is_an_error_not_run_inline() -> None:
    from plait.errors import PlaitError
    from plait_dask.collection import _run_in_row

    # the row expanded to no job at the index the static graph expected (a plait bug)
    with pytest.raises(PlaitError, match=r"Add has no job at index \(3,\)"):
        _run_in_row(({}, ()), "Add", (3,))
