"""``PlaitOperator``: run a plait task (or workflow) from a hand-written DAG file.

Example::

    from airflow.sdk import DAG
    from plait_airflow import PlaitOperator

    with DAG("powers_by_hand", schedule=None):
        ten = PlaitOperator(task_id="ten", task=TenToThePower(p=1), cache_root=CACHE)
        powers = PlaitOperator.partial(
            task_id="powers", task=TenToThePower(), cache_root=CACHE
        ).expand(inputs=[{"p": p} for p in range(50)])          # one mapped TI per p
        total = PlaitOperator(
            task_id="total", task=Sum(), cache_root=CACHE,
            inputs={"xs": powers.output.map(lambda out: out["out"])},
        )

The job runs through the cache (``plait.compile`` + ``expand`` + ``run_job``),
so a job that already ran — under ``to_dag``, ``Submitter`` or another
operator — is served from the cache. XCom carries references, never data
(docs/design.md §6): the return value is a dict by output name (each output is
also pushed under its own key, so ``op.output["out"]`` works); paths and files
become path strings into the job's cache directory; any other value becomes
a small reference into the cache, which another ``PlaitOperator`` resolves
when given it as an input (and :func:`plait_airflow.resolve` anywhere else).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

import plait
from plait import Job, PlaitError, Result, TaskDef
from plait.cache import default_cache_root
from plait.fields import MISSING
from plait.labels import render_state, render_value

from . import _store, config
from .node_operators import raise_failures, run_jobs

__all__ = ["PlaitOperator"]


class PlaitOperator(BaseOperator):
    """Run ``task`` (a plait definition instance) through the plait cache.

    :param task: the task, workflow, or split task to run; unset inputs come
        from ``inputs``.
    :param inputs: input values by field name (a template field: values may be
        upstream ``XComArg`` s, Jinja strings, or references pushed by another
        PlaitOperator). Map over it with ``.partial(...).expand(inputs=[...])``.
    :param cache_root: the shared cache root (a path every worker sees);
        defaults to ``[plait] cache_root`` of Airflow's configuration
        (``AIRFLOW__PLAIT__CACHE_ROOT``), else plait's default cache root.
    :param readonly_caches: caches consulted before running.
    :param environment: where shell jobs run (:mod:`plait.environments`).

    Mapped instances are labelled with their inputs (``p=3``) unless
    ``map_index_template`` says otherwise. The Airflow task fails if a job fails.
    """

    template_fields: Sequence[str] = ("inputs",)
    template_fields_renderers = {"inputs": "json"}
    ui_color = "#d9ecf2"

    def __init__(
        self,
        *,
        task: TaskDef,
        inputs: Mapping[str, Any] | None = None,
        cache_root: str | os.PathLike[str] | None = None,
        readonly_caches: Sequence[str | os.PathLike[str]] = (),
        environment: Any = None,
        map_index_template: str | None = "{{ task.state_label }}",
        **kwargs: Any,
    ) -> None:
        if not isinstance(task, TaskDef):
            raise TypeError(
                f"PlaitOperator(task=...) needs a plait definition instance, got {task!r}"
            )
        super().__init__(map_index_template=map_index_template, **kwargs)
        self.definition = task
        self.inputs = dict(inputs or {})
        unknown = [f for f in self.inputs if f not in task._inputs]
        if unknown:
            raise ValueError(
                f"{self.task_id}: {type(task).__name__} has no input(s) {unknown} "
                f"(inputs: {', '.join(task._inputs)})"
            )
        if cache_root is None:
            cache_root = config.cache_root()
        self.cache_root = None if cache_root is None else os.fspath(cache_root)
        self.readonly_caches = tuple(os.fspath(p) for p in readonly_caches)
        self.environment = environment

    @property
    def state_label(self) -> str:
        """``p=3``: the inputs given through ``inputs``, shortened (the map index label)."""
        return render_state(tuple((k, render_value(v)) for k, v in self.inputs.items()))

    def resolved_definition(self) -> TaskDef:
        """The definition with ``inputs`` applied (references into the cache resolved)."""
        defn = self.definition
        if not self.inputs:
            return defn
        root = self.cache_root or str(default_cache_root())
        values = {k: _store.from_xcom(v, root) for k, v in self.inputs.items()}
        split = set(defn._splitter.fields) if defn._splitter is not None else set()
        clash = split & set(values)
        if clash:
            raise AirflowException(
                f"{self.task_id}: {type(defn).__name__} is split over {sorted(clash)}; "
                "these cannot also be given in inputs"
            )
        base = {k: v for k, v in defn.input_values().items() if v is not MISSING and k not in split}
        try:
            new = type(defn)(**{**base, **values})
        except (TypeError, ValueError, PlaitError) as exc:
            raise AirflowException(f"{self.task_id}: {exc}") from exc
        if defn._splitter is not None or defn._combiner:
            for f in split:
                object.__setattr__(new, f, getattr(defn, f))
            object.__setattr__(new, "_splitter", defn._splitter)
            object.__setattr__(new, "_combiner", defn._combiner)
        return new

    def execute(self, context: Any) -> dict[str, Any]:
        """Run the job(s) through the cache; push the outputs; fail if a job failed."""
        defn = self.resolved_definition()
        graph = plait.compile(
            defn,
            self.cache_root,
            self.readonly_caches,
            environment=self.environment,
            inline=False,
        )
        (name,) = graph.nodes
        results: list[Result] = []

        def run(job: Job) -> Result:
            results.extend(run_jobs([job], self.log, raise_errors=False))
            return results[-1]

        outputs = graph.outputs({name: plait.run_node(graph, name, {}, run=run)})
        raise_failures(results)
        stored = _store.save_output(graph.cache_root, name, outputs)
        ref = {_store.REF_KEY: stored, "cache_root": graph.cache_root}
        pushed = {f: _store.to_xcom(v, {**ref, "field": f}) for f, v in outputs.items()}
        ti = context["ti"]
        for field, value in pushed.items():
            if field != "return_value":
                ti.xcom_push(field, value)
        return pushed
