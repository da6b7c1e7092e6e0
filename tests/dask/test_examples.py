"""The examples that run on Dask: locally on a LocalCluster, and on the real single-node SLURM."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "examples_support", Path(__file__).parents[1] / "core" / "examples_support.py"
)
assert _spec is not None and _spec.loader is not None
support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(support)
EXAMPLES: Path = support.EXAMPLES


def test_overlap_on_a_local_cluster(cache: Path) -> None:
    out = support.run_example("overlap.py", "--worker", "dask", cache=cache)
    assert out == support.expected_output(EXAMPLES / "overlap.py")


def test_parsl_patterns_on_dask(cache: Path) -> None:
    out = support.run_example("parsl_patterns.py", "--worker", "dask", cache=cache)
    assert out == support.expected_output(EXAMPLES / "parsl_patterns.py")


@pytest.mark.slurm
def test_overlap_on_slurm(slurm: None, cache: Path) -> None:
    out = support.run_example(
        "overlap.py", "--slurm", "--queue", "debug", "--interface", "lo", cache=cache, timeout=600
    )
    assert out == support.expected_output(EXAMPLES / "overlap.py")


@pytest.mark.slurm
def test_dask_slurm_example_gives_each_subject_its_own_value(
    slurm: None, cache: Path, tmp_path: Path
) -> None:
    out = support.run_example(
        "dask_slurm.py",
        "--subjects",
        "4",
        "--jobs",
        "2",
        "--interface",
        "lo",
        "--cache",
        str(tmp_path / "study-cache"),
        cache=cache,
        timeout=600,
    )
    expected = support.expected_output(EXAMPLES / "dask_slurm.py")
    assert out[-2:] == expected
    per_subject = eval(out[-2].partition(":")[2])  # a printed list of floats
    assert len(set(per_subject)) == 4
