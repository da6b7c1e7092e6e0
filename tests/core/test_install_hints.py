"""The unknown-worker error names the distribution that provides a worker name it knows."""

from __future__ import annotations

import pytest

from plait import get_worker
from plait.workers import available_workers


@pytest.mark.parametrize(
    "name, expected",
    [
        ("dask", "plait-dask: pip install ./core ./adapters/dask"),
        ("prefect", "plait-prefect: pip install ./core ./adapters/prefect"),
        ("airflow", "Airflow is not a worker"),
    ],
)
def test_unknown_worker_names_its_distribution(name: str, expected: str) -> None:
    if name in available_workers():
        pytest.skip(f"{name} is installed in this environment")
    with pytest.raises(ValueError, match="installed workers: cf, debug") as err:
        get_worker(name)
    assert expected in str(err.value)


def test_unknown_worker_without_a_hint() -> None:
    with pytest.raises(ValueError) as err:
        get_worker("nosuch")
    assert str(err.value) == "unknown worker 'nosuch'; installed workers: cf, debug"
