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

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, overload

import attrs

from .definition import TaskDef, make_definition_class
from .errors import DefinitionError, GraphError, InputError
from .fields import LazyOut, is_lazy
from .hashing import hash_function
from .node import Node, check_complete, make_node
from .python import function_fields
from .resources import Resources, make_resources
from .state import Splitter
from .typecheck import compatible, type_name

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
    def name(self) -> Any:
        """The node's name in the workflow — or its output ``name``, if it has one."""
        if "name" in self._spec.definition._outputs:
            return self.__getattr__("name")
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


class _InlinedHandle:
    """What ``workflow.add`` returns for a flattened nested workflow: its output bindings."""

    def __init__(self, name: str, wf: WorkflowDef, outputs: Mapping[str, Any]) -> None:
        self._name = name
        self._wf = wf
        self._outputs = dict(outputs)

    @property
    def name(self) -> Any:
        """The nested workflow's node name — or its output ``name``, if it has one."""
        return self._outputs["name"] if "name" in self._outputs else self._name

    def __getattr__(self, field: str) -> Any:
        if field.startswith("_"):
            raise AttributeError(field)
        if field not in self._outputs:
            raise GraphError(
                f"{self._name}: no output {field!r} (outputs: {', '.join(self._outputs) or 'none'})"
            )
        return self._outputs[field]

    def __repr__(self) -> str:
        return f"<nested workflow {self._name}: {self._wf!r}>"


_local = threading.local()


def _stack() -> list[_Builder]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


class _Builder:
    """Records the nodes one call of a workflow constructor adds.

    A nested workflow added without split or combine is flattened: its
    constructor runs here with the outer connections as its inputs, in a
    child builder whose nodes are named ``<node>.<inner>``; the handle it
    returns reads the nested workflow's outputs from its inner nodes.
    """

    def __init__(
        self, workflow: str, prefix: str = "", outer: Mapping[str, Node] | None = None
    ) -> None:
        self.workflow = workflow
        self.prefix = prefix
        self.outer: Mapping[str, Node] = outer or {}
        self.nodes: dict[str, Node] = {}
        self.local: dict[str, str] = {}  # name given in this constructor -> node name

    def add(self, defn: TaskDef, name: str | None, resources: Resources | None) -> Any:
        if not isinstance(defn, TaskDef):
            raise GraphError(
                f"{self.workflow}: workflow.add() takes a task definition instance, got {defn!r}"
            )
        local = name or type(defn).__name__
        if local in self.local:
            raise GraphError(
                f"{self.workflow}: a node named {local!r} already exists; "
                f"pass workflow.add(..., name='another_name')"
            )
        full = self.prefix + local
        for field, value in defn.input_values().items():
            if is_lazy(value) and value.node not in self.nodes and value.node not in self.outer:
                raise GraphError(
                    f"{self.workflow}.{local}.{field}: refers to {value!r}, which is not a "
                    "node of this workflow"
                )
        defn = self._qualified(defn)
        if isinstance(defn, WorkflowDef) and defn._splitter is None and not defn._combiner:
            inlined = self._inline(defn, full)
            if inlined is not None:
                self.local[local] = full
                return inlined
        spec = make_node(full, defn, {**self.outer, **self.nodes}, resources or None)
        self.nodes[full] = spec
        self.local[local] = full
        return NodeHandle(spec)

    def _qualified(self, defn: TaskDef) -> TaskDef:
        """``defn`` with combiner and splitter names of this constructor's nodes prefixed."""
        if not self.prefix:
            return defn

        def combined(name: str) -> str:
            owner, dot, field = name.rpartition(".")
            return f"{self.local[owner]}.{field}" if dot and owner in self.local else name

        def split(name: str) -> str:
            return "_" + self.local[name[1:]] if name[1:] in self.local else name

        combiner = tuple(combined(c) for c in defn._combiner)
        splitter = defn._splitter
        if splitter is not None:
            splitter = Splitter(tuple(tuple(split(f) for f in ax) for ax in splitter.axes))
        if combiner == defn._combiner and splitter == defn._splitter:
            return defn
        new = copy.copy(defn)
        object.__setattr__(new, "_combiner", combiner)
        object.__setattr__(new, "_splitter", splitter)
        return new

    def _inline(self, wf: WorkflowDef, full: str) -> _InlinedHandle | None:
        """Flatten nested workflow ``wf`` as ``full.*`` nodes, or None if it must stay one node.

        It stays one node when its constructor needs the values of inputs that
        are connections (they are known only at run time) or when an output
        still has an axis split inside it (such an output is gathered into one
        list per nested run, which only a nested run can do).
        """
        values = wf.input_values()
        check_complete(wf, full)
        connected = any(is_lazy(v) for v in values.values())
        child = _Builder(type(wf).__name__, prefix=full + ".", outer={**self.outer, **self.nodes})
        _stack().append(child)
        try:
            returned = type(wf)._constructor(**values)
            construction = child.finish(wf, returned)
        except Exception:
            if not connected:
                raise
            return None  # the constructor needs values: a workflow node expanded at run time
        finally:
            _stack().pop()
        for ref in construction.outputs.values():
            if is_lazy(ref) and ref.node in child.nodes:
                if any(ax.node.startswith(child.prefix) for ax in child.nodes[ref.node].out_axes):
                    return None
        self.nodes.update(child.nodes)
        return _InlinedHandle(full, wf, construction.outputs)

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
                    f"outputs, e.g. {value._spec.name}.out"
                )
            if is_lazy(value):
                if value.node not in self.nodes and value.node not in self.outer:
                    raise GraphError(f"{self.workflow}: output {out_name!r} refers to {value!r}")
                given = value.type
                node = self.nodes.get(value.node) or self.outer[value.node]
                if any(ax.node.startswith(self.prefix) for ax in node.out_axes):
                    # axes split in this workflow are gathered into one list at the output
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
        cls = make_definition_class(
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
