"""Airflow operator arguments for the tasks that run a node's jobs, from the plait definition.

:func:`default_task_settings` is what ``to_dag`` uses unless given
``task_settings=`` (a function of the :class:`plait.Node` returning operator
arguments); ``node_options={"Node": {...}}`` is applied last and wins.

- ``Resources(cpus=N)`` -> ``pool_slots=N`` (a task instance takes N slots of
  its pool; jobs of a batch run one after another, so a batch takes N too);
- ``cpus``/``memory`` -> ``executor_config={"pod_override": V1Pod(...)}``
  requesting them for the ``base`` container, for the KubernetesExecutor
  (only when the ``kubernetes`` client is installed; other executors ignore
  ``executor_config``);
- ``timeout`` (``@python.define(timeout=60)``) -> ``execution_timeout`` of a
  node without state (its task runs one job; the task of a split node runs a
  batch of jobs, so it gets none from it);
- retries the definition declares (a ``_retries`` class attribute) ->
  ``retries``.

Example — route memory-hungry nodes to a Celery queue as well::

    from plait_airflow import default_task_settings, to_dag

    def settings(node):
        args = default_task_settings(node)
        res = node.resources
        if res is not None and (res.memory or 0) > 16e9:
            args["queue"] = "bigmem"
        return args

    dag = to_dag(MyWorkflow(...), task_settings=settings)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from plait import Node, Resources

__all__ = ["TaskSettings", "default_task_settings", "pod_override"]

#: a function giving the operator arguments of a node's tasks
TaskSettings = Callable[[Node], dict[str, Any]]


def default_task_settings(node: Node) -> dict[str, Any]:
    """Operator arguments from the node's :class:`plait.Resources` and its definition's retries.

    ``pool_slots`` from cpus, pod resources from cpus and memory,
    ``execution_timeout`` from the timeout of a node without state, ``retries``
    from a definition's ``_retries``.
    """
    args: dict[str, Any] = {}
    res = node.resources
    if res is not None:
        if res.cpus is not None:
            args["pool_slots"] = res.cpus
        pod = pod_override(res)
        if pod is not None:
            args["executor_config"] = {"pod_override": pod}
        timeout = getattr(res, "timeout", None)
        if timeout is not None and not node.is_split:
            args["execution_timeout"] = datetime.timedelta(seconds=timeout)
    retries = getattr(type(node.definition), "_retries", None)
    if retries is not None:
        args["retries"] = retries
    return args


def pod_override(res: Resources) -> Any:
    """A ``kubernetes.client.V1Pod`` requesting ``res`` for its ``base`` container.

    None when ``res`` is empty or the ``kubernetes`` client is not installed.
    """
    requests: dict[str, str] = {}
    if res.cpus is not None:
        requests["cpu"] = str(res.cpus)
    if res.memory is not None:
        requests["memory"] = str(res.memory)
    if not requests:
        return None
    try:
        from kubernetes.client import models as k8s
    except ImportError:
        return None
    return k8s.V1Pod(
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(
                    name="base", resources=k8s.V1ResourceRequirements(requests=requests)
                )
            ]
        )
    )
