"""A node of a workflow: a definition, where its inputs come from, and its state.

:func:`make_node` is the one place a node is built (by ``workflow.add`` and by
``plait.compile``): it checks mandatory inputs and works out the node's
:class:`~plait.state.NodeState`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .definition import TaskDef
from .errors import InputError
from .fields import MISSING, is_lazy
from .resources import Resources
from .state import Axis, NodeState, node_state

__all__ = ["Node", "check_complete", "make_node", "missing_inputs"]


@attrs.frozen
class Node:
    """One node of a compiled graph: a definition, its connections and its state."""

    name: str
    definition: TaskDef
    upstream: tuple[str, ...]
    state: NodeState
    requested: Resources | None = None

    @property
    def kind(self) -> str:
        """``python``, ``shell`` or ``workflow``."""
        return self.definition._kind

    @property
    def inherited(self) -> tuple[Axis, ...]:
        """Axes inherited from split upstream nodes (slowest first)."""
        return self.state.inherited

    @property
    def own(self) -> tuple[Axis, ...]:
        """Axes of the node's own splitter."""
        return self.state.own

    @property
    def combined(self) -> tuple[Axis, ...]:
        """Axes the node combines."""
        return self.state.combined

    @property
    def zipped(self) -> tuple[tuple[str, Axis], ...]:
        """Own fields aligned with an inherited axis."""
        return self.state.zipped

    @property
    def axes(self) -> tuple[Axis, ...]:
        """Inherited then own axes."""
        return self.state.axes

    @property
    def out_axes(self) -> tuple[Axis, ...]:
        """Axes that remain after the combine (what downstream nodes inherit)."""
        return self.state.out_axes

    @property
    def resources(self) -> Resources | None:
        """Resources each job of this node needs: set on the node, else on its definition."""
        return self.requested or type(self.definition)._resources

    @property
    def is_split(self) -> bool:
        """True when the node runs more than one job (it has axes)."""
        return bool(self.state.axes)


def missing_inputs(defn: TaskDef) -> list[str]:
    """Names of mandatory inputs that have no value."""
    return [n for n, f in defn._inputs.items() if f.mandatory and getattr(defn, n) is MISSING]


def check_complete(defn: TaskDef, where: str, split: frozenset[str] = frozenset()) -> None:
    """Raise InputError naming the task and fields if mandatory inputs are missing."""
    missing = [m for m in missing_inputs(defn) if m not in split]
    if missing:
        fields = ", ".join(f"{m} ({defn._inputs[m].type!r})" for m in missing)
        raise InputError(f"{where}: missing mandatory input(s): {fields}")


def make_node(
    name: str,
    defn: TaskDef,
    existing: Mapping[str, Node],
    requested: Resources | None = None,
) -> Node:
    """The node ``name`` running ``defn``, whose lazy inputs refer to ``existing`` nodes."""
    values: dict[str, Any] = defn.input_values()
    splitter = defn._splitter
    split = frozenset(splitter.fields) if splitter is not None else frozenset()
    state = node_state(name, splitter, defn._combiner, values, existing)
    check_complete(defn, name, split | {f for f, _ in state.zipped})
    upstream = tuple(dict.fromkeys(v.node for v in values.values() if is_lazy(v)))
    return Node(name, defn, upstream, state, requested)
