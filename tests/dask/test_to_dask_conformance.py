"""``to_dask`` against ``debug`` on every conformance case with a static graph.

Same outputs (files compared by content and place in the cache) and the same
set of job directories, computed on a distributed LocalCluster. Cases whose
state is known only at run time have no static Dask graph and are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from test_conformance import CASES, _normal

from plait import Submitter
from plait_dask import to_dask
from plait_dask.collection import RuntimeStateError


def _jobs(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and (p / "result.pkl").exists()}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", list(CASES))
def test_to_dask_agrees_with_debug(case: str, client: Any, tmp_path: Path) -> None:
    defn = CASES[case](tmp_path)
    try:
        collection = to_dask(defn, cache_root=tmp_path / "dask", raise_errors=False)
    except RuntimeStateError:
        pytest.skip("its state is known only at run time: no static Dask graph")
    outputs = client.compute(collection).result()
    with Submitter(worker="debug", cache_root=tmp_path / "debug") as sub:
        reference = sub(defn)
    assert _normal(attrs.asdict(outputs, recurse=False), tmp_path / "dask") == _normal(
        attrs.asdict(reference.outputs, recurse=False), tmp_path / "debug"
    )
    # the Submitter also records the whole submission in one directory of its own
    own = {reference.cache_dir.name} if reference.cache_dir is not None else set()
    assert _jobs(tmp_path / "dask") == _jobs(tmp_path / "debug") - own
