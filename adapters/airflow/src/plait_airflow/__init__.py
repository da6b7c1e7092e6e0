"""plait-airflow: an Apache Airflow provider that runs plait tasks and workflows.

Two entry points:

- :func:`to_dag` turns a workflow into a DAG whose tasks mirror its nodes
  (split nodes become dynamically mapped tasks labelled with their state);
- :class:`PlaitOperator` runs one plait task from a hand-written DAG file.

Example — a DAG file in the dags folder::

    from plait_airflow import to_dag
    from mytasks import Powers

    dag = to_dag(Powers(ps=[1, 2, 3]), dag_id="powers", cache_root="/shared/plait-cache")

Jobs run through plait's cache in ``cache_root`` (or ``[plait] cache_root`` of
Airflow's configuration), which every Airflow worker must see; XCom carries
only small references. See docs/airflow.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assets import node_asset
    from .dag import to_dag
    from .operators import PlaitOperator
    from .results import resolve, run_outputs, xcom_value
    from .task_settings import default_task_settings

__version__ = "0.1.0"

__all__ = [
    "PlaitOperator",
    "__version__",
    "default_task_settings",
    "get_provider_info",
    "node_asset",
    "resolve",
    "run_outputs",
    "to_dag",
    "xcom_value",
]


def get_provider_info() -> dict[str, Any]:
    """Provider metadata for Airflow's providers manager (entry point ``apache_airflow_provider``)."""
    from .config import provider_config

    return {
        "package-name": "plait-airflow",
        "name": "plait",
        # Airflow strips underscores from provider descriptions: none here
        "description": "Run plait tasks and workflows on Airflow: PlaitOperator for DAG files, "
        "and whole workflows rendered as DAGs (one task or mapped task per node)",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "plait",
                "external-doc-url": "https://github.com/plait/plait/blob/main/docs/airflow.md",
                "tags": ["software"],
            }
        ],
        "operators": [
            {
                "integration-name": "plait",
                "python-modules": ["plait_airflow.operators", "plait_airflow.node_operators"],
            }
        ],
        "config": provider_config(),
    }


_LAZY = {
    "to_dag": ".dag",
    "PlaitOperator": ".operators",
    "default_task_settings": ".task_settings",
    "node_asset": ".assets",
    "resolve": ".results",
    "run_outputs": ".results",
    "xcom_value": ".results",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that Airflow's providers manager can read get_provider_info()
    # without importing the Task SDK and plait.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
