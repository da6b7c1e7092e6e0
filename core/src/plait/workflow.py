"""``workflow.define`` and ``workflow.add``: compose tasks into a workflow.

Example::

    from plait import python, workflow

    @workflow.define(outputs=["powers", "total"])
    def Powers(ps: list[int]) -> tuple[list[int], int]:
        pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
        total = workflow.add(Sum(xs=pw.out))
        return pw.out, total.out

The function is called when the workflow is compiled, with the workflow's
input values; ``workflow.add`` records a node and returns a handle whose
attributes are lazy references to the node's outputs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

import attrs

from .definition import TaskDef, make_definition_class
from .errors import DefinitionError, GraphError, InputError
from .fields import MISSING, LazyOut, is_lazy
from .hashing import hash_function
from .python import function_fields
from .resources import Resources, make_resources
from .typecheck import compatible, type_name

if TYPE_CHECKING:
    from .graph import Node

__all__ = ["NodeHandle", "WorkflowDef", "add", "define"]


class WorkflowDef(TaskDef):
    """Base class of definitions made by :func:`define`; ``_constructor`` builds the nodes."""

    _kind: ClassVar[str] = "workflow"
    _constructor: ClassVar[Callable[..., Any]]

    @classmethod
    def _identity_parts(cls) -> tuple[Any, ...]:
        """The constructor's identity (code and the values it reads, tasks included)."""
        return (hash_function(cls._constructor),)

    def construct(self) -> Construction:
        """Call the constructor with this instance's inputs and record its nodes."""
        builder = _Builder(type(self).__name__)
        _stack().append(builder)
        try:
            returned = type(self)._constructor(**self.input_values())
        finally:
            _stack().pop()
        return builder.finish(self, returned)


@attrs.frozen
class Construction:
    """The nodes and output bindings one call of a workflow constructor produced."""

    nodes: dict[str, Node]
    outputs: dict[str, Any]


class NodeHandle:
    """What ``workflow.add`` returns: attribute access gives lazy output references."""

    def __init__(self, spec: Node) -> None:
        self._spec = spec

    @property
    def name(self) -> str:
        """The node's name in the workflow."""
        return self._spec.name

    def __getattr__(self, field: str) -> LazyOut:
        if field.startswith("_"):
            raise AttributeError(field)
        spec = self._spec
        outputs = spec.definition._outputs
        if field not in outputs:
            raise GraphError(
                f"{spec.name}: no output {field!r} (outputs: {', '.join(outputs) or 'none'})"
            )
        tp = outputs[field].type
        if spec.combined:
            tp = list[tp]  # type: ignore[valid-type]
        return LazyOut(node=spec.name, field=field, type=tp)

    def __repr__(self) -> str:
        return f"<node {self._spec.name}: {self._spec.definition!r}>"


_local = threading.local()


def _stack() -> list[_Builder]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


class _Builder:
    def __init__(self, workflow: str) -> None:
        self.workflow = workflow
        self.nodes: dict[str, Node] = {}

    def add(self, defn: TaskDef, name: str | None, resources: Resources | None) -> NodeHandle:
        from .graph import node_state

        if not isinstance(defn, TaskDef):
            raise GraphError(
                f"{self.workflow}: workflow.add() takes a task definition instance, got {defn!r}"
            )
        name = name or type(defn).__name__
        if name in self.nodes:
            raise GraphError(
                f"{self.workflow}: a node named {name!r} already exists; "
                f"pass workflow.add(..., name='another_name')"
            )
        for field, value in defn.input_values().items():
            if is_lazy(value) and value.node not in self.nodes:
                raise GraphError(
                    f"{self.workflow}.{name}.{field}: refers to {value!r}, which is not a "
                    "node of this workflow"
                )
        spec = node_state(name, defn, self.nodes)
        if resources:
            spec = attrs.evolve(spec, requested=resources)
        self.nodes[name] = spec
        return NodeHandle(spec)

    def finish(self, wf: WorkflowDef, returned: Any) -> Construction:
        names = list(wf._outputs)
        if len(names) == 1:
            values = [returned]
        else:
            if not isinstance(returned, (tuple, list)) or len(returned) != len(names):
                raise DefinitionError(
                    f"{self.workflow}: the constructor must return {len(names)} values "
                    f"({', '.join(names)})"
                )
            values = list(returned)
        outputs: dict[str, Any] = {}
        for out_name, value in zip(names, values):
            if isinstance(value, NodeHandle):
                raise DefinitionError(
                    f"{self.workflow}: output {out_name!r} is a node; return one of its "
                    f"outputs, e.g. {value.name}.out"
                )
            if is_lazy(value):
                if value.node not in self.nodes:
                    raise GraphError(f"{self.workflow}: output {out_name!r} refers to {value!r}")
                given = value.type
                if self.nodes[value.node].out_axes:  # gathered into one list at the output
                    given = list[given]  # type: ignore[valid-type]
                declared = wf._outputs[out_name].type
                if not compatible(given, declared):
                    raise InputError(
                        f"{self.workflow}: output {out_name!r} is declared "
                        f"{type_name(declared)}, but {value!r} gives {type_name(given)}"
                    )
            outputs[out_name] = value
        return Construction(nodes=dict(self.nodes), outputs=outputs)


def add(
    defn: TaskDef,
    name: str | None = None,
    *,
    cpus: int | None = None,
    memory: int | str | None = None,
) -> NodeHandle:
    """Add a task (or nested workflow) as a node of the workflow being constructed.

    ``name`` defaults to the definition's class name and must be unique.
    ``cpus`` and ``memory`` set what each job of this node needs (overriding
    what the definition declares). Returns a handle whose attributes
    (``node.out``) are lazy output references.
    """
    stack = _stack()
    if not stack:
        raise GraphError("workflow.add() may only be called inside a @workflow.define function")
    return stack[-1].add(defn, name, make_resources(cpus, memory))


@overload
def define(func: Callable[..., Any], /) -> type[WorkflowDef]: ...


@overload
def define(
    *, outputs: Sequence[str] | Mapping[str, Any] | None = None, name: str | None = None
) -> Callable[[Callable[..., Any]], type[WorkflowDef]]: ...


def define(
    func: Callable[..., Any] | None = None,
    /,
    *,
    outputs: Sequence[str] | Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Any:
    """Make a workflow definition class from a constructor function.

    Inputs come from the parameters, outputs from ``outputs`` (or ``out``);
    the constructor adds nodes with :func:`add` and returns their lazy outputs.
    """

    def wrap(f: Callable[..., Any]) -> type[WorkflowDef]:
        task = name or f.__name__
        inputs, out_fields = function_fields(f, task, outputs)
        cls: type[WorkflowDef] = make_definition_class(  # type: ignore[assignment]
            task,
            WorkflowDef,
            inputs,
            out_fields,
            module=f.__module__,
            doc=f.__doc__,
            namespace={"_constructor": staticmethod(f)},
            qualname=getattr(f, "__qualname__", task),
        )
        return cls

    return wrap(func) if func is not None else wrap


def missing_inputs(defn: TaskDef) -> list[str]:
    """Names of mandatory inputs that have no value."""
    return [n for n, f in defn._inputs.items() if f.mandatory and getattr(defn, n) is MISSING]


def check_complete(defn: TaskDef, where: str) -> None:
    """Raise InputError naming the task and fields if mandatory inputs are missing."""
    missing = missing_inputs(defn)
    if missing:
        fields = ", ".join(f"{m} ({defn._inputs[m].type!r})" for m in missing)
        raise InputError(f"{where}: missing mandatory input(s): {fields}")
