"""Every example runs as a script and prints what its docstring says it prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from examples_support import EXAMPLES, expected_output, run_example


@pytest.mark.parametrize(
    "script", ["pydra_tutorial.py", "overlap.py", "parsl_patterns.py", "pipefunc_grid.py"]
)
def test_example_prints_its_expected_output(script: str, cache: Path) -> None:
    assert run_example(script, cache=cache) == expected_output(EXAMPLES / script)


def test_parsl_patterns_on_debug(cache: Path) -> None:
    out = run_example("parsl_patterns.py", "--worker", "debug", cache=cache)
    assert out == expected_output(EXAMPLES / "parsl_patterns.py")


def test_quickstart_computes_then_is_served_from_the_cache(cache: Path) -> None:
    expected = expected_output(EXAMPLES / "quickstart.py")
    first = run_example("quickstart.py", cache=cache)
    assert first[:4] == expected[:4]
    assert first[4].startswith(f"computed; stored in {cache}/workflow-")
    second = run_example("quickstart.py", cache=cache)
    assert second[:4] == expected[:4]
    if not second[4].startswith("served from the cache"):
        pytest.xfail("Result.cached on a full cache hit is the lead's driver fix (issue 13)")
