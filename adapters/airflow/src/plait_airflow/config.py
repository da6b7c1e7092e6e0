"""The provider's ``[plait]`` section of Airflow's configuration.

A deployment sets the shared cache once, in ``airflow.cfg``::

    [plait]
    cache_root = /shared/plait-cache

or as an environment variable of every Airflow process
(``AIRFLOW__PLAIT__CACHE_ROOT=/shared/plait-cache``), instead of passing
``cache_root=`` in every DAG file. The options (and their defaults) are
declared in :func:`plait_airflow.get_provider_info` so ``airflow config list``
shows them.
"""

from __future__ import annotations

#: the options of the ``[plait]`` section: name -> (description, default or None)
OPTIONS: dict[str, tuple[str, str | None]] = {
    "cache_root": (
        "The shared plait cache every Airflow worker sees (a path on a shared filesystem), "
        "used by DAGs built by the to-DAG builder and by PlaitOperator when they are not given "
        "a cache root. Unset: plait's per-user default cache.",
        None,
    ),
    "max_tasks_per_node": (
        "The most mapped task instances one plait node gets when no jobs-per-task is given: "
        "a node with more jobs runs them in contiguous batches (each job still cached and "
        "reported on its own).",
        "64",
    ),
}

SECTION = "plait"


def _conf_get(option: str) -> str | None:
    from airflow.sdk import conf

    value = conf.get(SECTION, option, fallback=None)
    if value in (None, ""):
        return OPTIONS[option][1]
    return str(value)


def cache_root() -> str | None:
    """``[plait] cache_root`` (``AIRFLOW__PLAIT__CACHE_ROOT``), or None when unset."""
    return _conf_get("cache_root")


def max_tasks_per_node() -> int:
    """``[plait] max_tasks_per_node`` (``AIRFLOW__PLAIT__MAX_TASKS_PER_NODE``), default 64."""
    value = _conf_get("max_tasks_per_node") or "64"
    try:
        number = int(value)
    except ValueError:
        raise ValueError(
            f"[plait] max_tasks_per_node: expected a positive integer, got {value!r}"
        ) from None
    if number < 1:
        raise ValueError(f"[plait] max_tasks_per_node: expected a positive integer, got {number}")
    return number


def provider_config() -> dict[str, object]:
    """The ``config`` entry of the provider info (Airflow's provider-info schema)."""
    return {
        SECTION: {
            "description": "Settings of the plait provider (plait-airflow).",
            "options": {
                name: {
                    "description": description,
                    "version_added": "0.1.0",
                    "type": "integer" if name == "max_tasks_per_node" else "string",
                    "example": "/shared/plait-cache" if name == "cache_root" else "64",
                    "default": default,
                }
                for name, (description, default) in OPTIONS.items()
            },
        }
    }
