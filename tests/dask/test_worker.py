"""worker="dask": how it is chosen and configured, keys, data movement (issue 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dask.utils import key_split
from dask_tasks import BlobLength, BlobLengths, Powers, TenToThePower

from plait import Submitter, TaskHooks, python
from plait.workers import available_workers, get_worker
from plait_dask import DaskWorker


def test_registered_as_the_dask_worker(client: Any) -> None:
    assert available_workers()["dask"] == "plait_dask.worker:DaskWorker"
    with get_worker("dask", client=client) as worker:
        assert isinstance(worker, DaskWorker)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"client": "c", "address": "tcp://x:1"}, "only one of client=, address= or cluster="),
        ({"address": "tcp://x:1", "cluster": object()}, "address and cluster"),
        ({"address": "tcp://x:1", "threads_per_worker": 2}, "threads_per_worker= configures"),
        ({"address": "tcp://x:1", "n_workers": 2}, "n_workers= configures"),
        ({"cluster": object(), "cluster_kwargs": {}}, "cluster_kwargs= configures"),
        ({"address": "tcp://x:1", "retries": -1}, "retries must be"),
    ],
)
def test_contradictory_arguments_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DaskWorker(**kwargs)


def test_client_must_be_a_distributed_client() -> None:
    with pytest.raises(TypeError, match=r"distributed\.Client"):
        DaskWorker(client="not a client")  # type: ignore[arg-type]


def test_temporary_local_cluster_is_closed_after(cache: Path) -> None:
    worker = DaskWorker(n_workers=2)
    cluster = worker.cluster
    assert worker.client is not None
    with Submitter(worker=worker, cache_root=cache) as sub:
        assert sub(TenToThePower().split(p=[1, 2, 3])).outputs.out == [10, 100, 1000]
    assert cluster.status.name == "running"  # a worker object given to Submitter is the caller's
    worker.close()
    assert cluster.status.name == "closed"
    assert worker.client.status == "closed"


def test_submitter_by_name_closes_its_temporary_cluster(cache: Path) -> None:
    sub = Submitter(worker="dask", n_workers=1, cache_root=cache)
    cluster = sub.worker.cluster  # type: ignore[attr-defined]
    with sub:
        assert sub(TenToThePower(p=2)).outputs.out == 100
    assert cluster.status.name == "closed"


def test_address_cluster_and_client_give_the_same_result(
    client: Any, local_cluster: Any, tmp_path: Path
) -> None:
    outs = []
    for i, kwargs in enumerate(
        [
            {"client": client},
            {"address": local_cluster.scheduler_address},
            {"cluster": local_cluster},
        ]
    ):
        with Submitter(worker="dask", cache_root=tmp_path / str(i), **kwargs) as sub:
            outs.append(sub(Powers(ps=[1, 2])).outputs.total)
    assert outs == [110, 110, 110]
    assert client.status == "running"  # a given client stays open
    assert local_cluster.status.name == "running"


def test_one_dask_task_per_job_grouped_under_its_node(client: Any, cache: Path) -> None:
    from distributed import get_task_stream

    submitted: list[str] = []
    hooks = TaskHooks(pre_run_task=lambda job: submitted.append(job.label))
    with (
        get_task_stream(client) as ts,
        Submitter(worker="dask", client=client, cache_root=cache, hooks=hooks) as sub,
    ):
        assert sub(TenToThePower().split(p=[1, 2, 3])).outputs.out == [10, 100, 1000]
    keys = sorted(str(t["key"]) for t in ts.data)
    # one task group per node (as client.map gives), each key carrying the job's state
    assert [key_split(k) for k in keys] == ["TenToThePower"] * 3
    assert sorted(k[k.index("[") :] for k in keys) == ["[p=1]", "[p=2]", "[p=3]"]
    assert sorted(submitted) == [
        "TenToThePower[p=1]",
        "TenToThePower[p=2]",
        "TenToThePower[p=3]",
    ]


def test_upstream_results_are_dependencies_of_downstream_tasks(client: Any, cache: Path) -> None:
    worker = DaskWorker(client=client)
    with Submitter(worker=worker, cache_root=cache) as sub:
        assert sub(Powers(ps=[1, 2])).outputs.total == 110
        # the worker holds its finished jobs' futures until it is closed
        sum_key = next(k for k in client.futures if str(k).startswith("Sum-"))
    deps = client.run_on_scheduler(
        lambda dask_scheduler, key=sum_key: (
            sorted(str(d.key) for d in dask_scheduler.tasks[key].dependencies)
            if key in dask_scheduler.tasks
            else None
        )
    )
    worker.close()
    assert deps is not None and sorted((key_split(d), d[d.index("[") :]) for d in deps) == [
        ("TenToThePower", "[p=1]"),
        ("TenToThePower", "[p=2]"),
    ]


def _task_sizes(client: Any) -> dict[str, list[tuple[int, int]]]:
    """(pickled run_spec bytes, result nbytes) of each held task on the scheduler, by node."""
    import pickle

    keys = list(client.futures)  # the worker holds its finished jobs' futures until closed
    sizes = client.run_on_scheduler(
        lambda dask_scheduler, keys=keys: {
            key: (
                len(pickle.dumps(dask_scheduler.tasks[key].run_spec)),
                dask_scheduler.tasks[key].nbytes,
            )
            for key in keys
        }
    )
    by_node: dict[str, list[tuple[int, int]]] = {}
    for key, size in sizes.items():
        by_node.setdefault(key_split(key), []).append(size)
    return by_node


def test_upstream_outputs_move_worker_to_worker_not_inside_the_job(
    client: Any, cache: Path
) -> None:
    with (
        DaskWorker(client=client) as worker,
        Submitter(worker=worker, cache_root=cache) as sub,
    ):
        assert sub(BlobLength(n=8_000_000)).outputs.out == 8_000_000
        assert sub(BlobLengths(n=3, size=3_000_000)).outputs.out == [3_000_000] * 3
        sizes = _task_sizes(client)
    # the large outputs reach Length through the upstream futures, not inside its tasks
    assert len(sizes["Length"]) == 4 and max(spec for spec, _ in sizes["Length"]) < 100_000
    # and Dask knows how big the upstream results are (for placement and memory)
    (blob,), (blobs,) = sizes["Blob"], sizes["Blobs"]
    assert blob[1] >= 8_000_000 and blobs[1] >= 9_000_000, sizes


def test_label_key_style_names_each_task_by_its_job_label(client: Any, cache: Path) -> None:
    from distributed import get_task_stream

    with (
        get_task_stream(client) as ts,
        Submitter(worker="dask", client=client, cache_root=cache, key_style="label") as sub,
    ):
        assert sub(TenToThePower().split(p=[1, 2])).outputs.out == [10, 100]
    keys = sorted(str(t["key"]) for t in ts.data)
    assert [key_split(k) for k in keys] == ["TenToThePower[p=1]", "TenToThePower[p=2]"]


def test_unknown_key_style_is_rejected() -> None:
    with pytest.raises(ValueError, match="key_style must be one of"):
        DaskWorker(address="tcp://x:1", key_style="fancy")


@python.define
def DefinedInAScript(x: int) -> int:
    """x * 3; its class claims to come from ``__main__`` below, so it pickles by value."""
    return x * 3


DefinedInAScript.__module__ = "__main__"  # as if defined in a script or notebook


def test_jobs_travel_small_and_script_classes_once_per_worker(client: Any, tmp_path: Path) -> None:
    from plait import compile
    from plait_dask.transport import JobEncoder, run_encoded

    encoder = JobEncoder(client)
    sizes = {}
    for defn in [TenToThePower(p=2), DefinedInAScript(x=2)]:
        graph = compile(defn, cache_root=tmp_path)
        (job,) = graph.static_jobs(next(iter(graph.nodes))) or []
        payload, digest = encoder.encode(job)
        sizes[job.node] = len(payload)
        result = client.submit(run_encoded, payload, job.label, digest, pure=False).result()
        assert not result.errored, result.errors
        assert result.outputs["out"] in (100, 6)
        assert (digest is None) == (job.node == "TenToThePower")  # by reference: no plugin
    # a module's task travels by reference; a script's class by a worker plugin, once
    assert max(sizes.values()) < 1024, sizes
