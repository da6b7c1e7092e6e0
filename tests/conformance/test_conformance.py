"""Identical outputs and identical cache directories on every worker (issue 4, item 1).

Each case runs once on ``debug`` (the reference) and once on the worker under
test, each with its own empty cache; outputs (files compared by content and
by their place in the cache) and the set of job directories must be equal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from conformance_tasks import (
    Add,
    DivMod,
    FilePassing,
    MapReduce,
    NestedConnected,
    Outer,
    PartialFailure,
    Powers,
    RuntimeSplit,
    SplitPropagateCombine,
    TenToThePower,
    TwoIndependent,
)

from plait import Submitter, TaskDef


def _files(tmp: Path) -> list[Path]:
    d = tmp / "inputs"
    d.mkdir(exist_ok=True)
    paths = []
    for i, text in enumerate(["alpha", "beta", "gamma"]):
        p = d / f"in{i}.txt"
        p.write_text(text)
        paths.append(p)
    return paths


CASES: dict[str, Callable[[Path], TaskDef]] = {
    "split": lambda tmp: TenToThePower().split(p=[1, 2, 3, 4, 5]),
    "outer": lambda tmp: Add().split(["a", "b"], a=[1, 2], b=[10, 20, 30]),
    "scalar": lambda tmp: Add().split(("a", "b"), a=[1, 2, 3], b=[4, 5, 6]),
    "combine-one-axis": lambda tmp: Add().split(["a", "b"], a=[1, 2], b=[10, 20, 30]).combine("a"),
    "combine-both": lambda tmp: Add().split(["a", "b"], a=[1, 2], b=[10, 20]).combine(["a", "b"]),
    "nested-splitter": lambda tmp: DivMod().split(["a", ("b",)], a=[7, 8], b=[2, 3]),
    "two-outputs": lambda tmp: DivMod().split(a=[7, 9, 11], b=[2, 4]),
    "powers": lambda tmp: Powers(ps=[1, 2, 3]),
    "split-propagate-combine-reduce": lambda tmp: SplitPropagateCombine(xs=[1, 2, 3], k=10),
    "nested-workflow": lambda tmp: Outer(xs=[1, 2, 3], k=10),
    "nested-workflow-connected": lambda tmp: NestedConnected(xs=[1, 2, 3]),
    "workflow-split-at-top": lambda tmp: SplitPropagateCombine(k=2).split(xs=[[1, 2], [3], [4, 5]]),
    "map-reduce": lambda tmp: MapReduce(xs=list(range(12))),
    "two-independent-nodes": lambda tmp: TwoIndependent(seconds=0.01, log_dir=str(tmp)),
    "runtime-split": lambda tmp: RuntimeSplit(ns=[1, 3, 2]),
    "file-passing": lambda tmp: FilePassing(files=_files(tmp)),
    "partial-failure": lambda tmp: PartialFailure(xs=[1, 2, 3, 4], bad=3),
}


def _normal(value: Any, root: Path) -> Any:
    """Outputs made comparable across cache roots: files become (place in cache, content)."""
    fspath = getattr(value, "fspath", None)
    if fspath is not None and not isinstance(value, str):
        path = Path(fspath)
        try:
            where = str(path.relative_to(root))
        except ValueError:
            where = path.name
        return ("file", where, path.read_bytes())
    if isinstance(value, (list, tuple)):
        return [_normal(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v, root) for k, v in value.items()}
    return value


def _run(defn: TaskDef, root: Path, options: dict[str, Any]) -> dict[str, Any]:
    with Submitter(cache_root=root, **options) as sub:
        result = sub(defn)
    return {
        "outputs": _normal(attrs.asdict(result.outputs, recurse=False), root),
        "errored": result.errored,
        "failed": sorted(e.job for e in result.errors),
        "skipped": sorted(result.skipped),
        "jobs": sorted(
            p.name for p in root.iterdir() if p.is_dir() and (p / "result.pkl").exists()
        ),
        "cache_dir": None if result.cache_dir is None else result.cache_dir.name,
    }


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", list(CASES))
def test_same_outputs_and_cache_dirs_on_every_worker(
    case: str, worker_options: dict[str, Any], tmp_path: Path
) -> None:
    defn = CASES[case](tmp_path)
    reference = _run(defn, tmp_path / "reference", {"worker": "debug"})
    got = _run(defn, tmp_path / "under-test", worker_options)
    assert got == reference
    assert reference["jobs"], "the case ran no job"


def test_cached_rerun_runs_nothing(worker_options: dict[str, Any], tmp_path: Path) -> None:
    from plait import TaskHooks

    defn = Powers(ps=[1, 2, 3, 4])
    _run(defn, tmp_path / "c", worker_options)
    ran: list[str] = []
    hooks = TaskHooks(pre_run_task=lambda job: ran.append(job.label))
    with Submitter(cache_root=tmp_path / "c", hooks=hooks, **worker_options) as sub:
        again = sub(defn)
    assert again.outputs.total == 11110
    assert ran == []


def test_two_independent_nodes_both_ran(worker_options: dict[str, Any], tmp_path: Path) -> None:
    logs = tmp_path / "log"
    logs.mkdir()
    with Submitter(cache_root=tmp_path / "c", **worker_options) as sub:
        result = sub(TwoIndependent(seconds=0.01, log_dir=str(logs)))
    assert result.outputs.both == "A+B"
    assert sorted(os.listdir(logs)) == ["A", "B"]
