"""Per-element release on Dask, exact labels in Dask keys, nested workflows as Dask tasks (issue 9).

- In A.split(x=[0..7]) -> B, A[x=0] waits for the other elements' B jobs
  (marker files); it sees all 7 only if B[x] ran as soon as A[x] was done.
- A failing element whose value holds a comma, a bracket and a quote is named
  exactly in Dask keys and errors.
- The inner nodes of a nested workflow (flattened by compile) are Dask tasks
  of their own, on ``worker="dask"`` and in ``to_dask``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from dask.utils import key_split
from dask_tasks import FailOnText, NestedConnected, SlowFirst

from plait import JobFailedError, Submitter
from plait.labels import render_label, render_state, render_value
from plait_dask import to_dask

XS = list(range(8))
TRICKY = 'a,b]"c'


@pytest.fixture(scope="module")
def four_threads() -> Iterator[Any]:
    """A Client of one worker process with 4 threads.

    A[x=0] blocks one thread while it waits; the other three run the rest
    whichever worker Dask placed it on (with single-threaded workers, Dask
    may queue a B task behind the blocked one on the same worker).
    """
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=1, threads_per_worker=4, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        yield client


def _slow_first(tmp_path: Path) -> tuple[Any, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    return SlowFirst(xs=XS, marker_dir=str(markers), timeout=60.0), markers


def _seen(markers: Path) -> int:
    (seen,) = [m.name for m in markers.iterdir() if m.name.startswith("seen-")]
    return int(seen.split("-")[1])


@pytest.mark.timeout(120)
def test_downstream_jobs_do_not_wait_for_the_slowest_upstream_element_on_dask(
    four_threads: Any, cache: Path, tmp_path: Path
) -> None:
    defn, markers = _slow_first(tmp_path)
    with Submitter(worker="dask", client=four_threads, cache_root=cache) as sub:
        assert sub(defn).outputs.out == XS
    assert _seen(markers) == len(XS) - 1  # every B[x != 0] finished before A[x=0] did


@pytest.mark.timeout(120)
def test_downstream_jobs_do_not_wait_for_the_slowest_upstream_element_in_to_dask(
    four_threads: Any, cache: Path, tmp_path: Path
) -> None:
    defn, markers = _slow_first(tmp_path)
    assert four_threads.compute(to_dask(defn, cache_root=cache)).result().out == XS
    assert _seen(markers) == len(XS) - 1


def _failing() -> Any:
    return FailOnText(bad=TRICKY).split(s=["plain", TRICKY])


def test_a_failing_element_with_a_tricky_value_is_named_exactly_in_dask_keys(
    client: Any, cache: Path
) -> None:
    from distributed import get_task_stream

    state = render_state([("s", render_value(TRICKY))])
    with (
        get_task_stream(client) as ts,
        Submitter(worker="dask", client=client, cache_root=cache) as sub,
    ):
        result = sub(_failing())
    assert [e.job for e in result.errors] == [
        render_label("FailOnText", [("s", render_value(TRICKY))])
    ]
    keys = [str(t["key"]) for t in ts.data]
    assert [k for k in keys if k.endswith(f"[{state}]")] and all(
        key_split(k) == "FailOnText" for k in keys
    ), keys

    collection = to_dask(_failing(), cache_root=cache)
    job_keys = [
        str(k) for k in dict(collection.__dask_graph__()) if key_split(str(k)) == "FailOnText"
    ]
    assert sorted(k[k.index("[") :] for k in job_keys) == sorted(
        [f"[{state}]", f"[{render_state([('s', 'plain')])}]"]
    )
    with pytest.raises(JobFailedError) as info:
        dask.compute(collection, scheduler="sync")
    assert render_label("FailOnText", [("s", render_value(TRICKY))]) in str(info.value)


def test_nested_workflow_nodes_are_dask_tasks_of_their_own(client: Any, tmp_path: Path) -> None:
    from distributed import get_task_stream

    defn = NestedConnected(xs=[1, 2, 3])
    with Submitter(worker="debug", cache_root=tmp_path / "debug") as sub:
        reference = sub(defn).outputs
    with (
        get_task_stream(client) as ts,
        Submitter(worker="dask", client=client, cache_root=tmp_path / "dask") as sub,
    ):
        assert sub(defn).outputs == reference
    ran = {key_split(str(t["key"])) for t in ts.data}
    assert {"Inner.Add", "Inner.Mul"} <= ran, ran

    collection = to_dask(defn, cache_root=tmp_path / "to_dask")
    names = {key_split(str(k)) for k in dict(collection.__dask_graph__())}
    assert {"Inner.Add", "Inner.Mul"} <= names, names
    assert client.compute(collection).result() == reference
