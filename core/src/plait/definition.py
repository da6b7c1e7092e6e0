"""The base of every task definition (python, shell and workflow).

A definition class is an attrs class whose fields are the task's inputs.
Instances are immutable values, type-checked when created. ``split`` and
``combine`` return new instances that carry the node's state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs

from .errors import InputError, NotANodeError, StateError
from .fields import MISSING, Field, is_lazy
from .state import Splitter, parse_combiner
from .typecheck import check_value, compatible, type_name

if TYPE_CHECKING:
    from .result import Result


#: runs a definition and returns its Result: installed by :mod:`plait.submitter`, so that
#: definitions do not import the machinery that runs them
_RUNNER: Callable[[TaskDef, Any, dict[str, Any]], Result] | None = None


def install_runner(runner: Callable[[TaskDef, Any, dict[str, Any]], Result]) -> None:
    """Set the function ``TaskDef.__call__`` runs definitions with (called by plait.submitter)."""
    global _RUNNER
    _RUNNER = runner


@attrs.define(frozen=True, kw_only=True, repr=False, eq=True, slots=False)
class TaskDef:
    """Base class of definitions; subclasses are made by ``python.define``,
    ``shell.define`` and ``workflow.define``.

    Class attributes describe the task: ``_kind`` (``"python"``, ``"shell"``,
    ``"workflow"``), ``_inputs`` and ``_outputs`` (name -> :class:`Field`),
    ``_outputs_class`` (the attrs class holding a run's outputs).
    """

    _splitter: Splitter | None = attrs.field(default=None, init=False, repr=False)
    _combiner: tuple[str, ...] = attrs.field(default=(), init=False, repr=False)

    _kind: ClassVar[str] = "task"
    _inputs: ClassVar[dict[str, Field]] = {}
    _outputs: ClassVar[dict[str, Field]] = {}
    _outputs_class: ClassVar[type]
    _resources: ClassVar[Any] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> TaskDef:
        # attrs' __init__ would raise a bare TypeError; name the task and its inputs
        if args or not kwargs.keys() <= cls._inputs.keys():
            raise _bad_arguments(cls, args, kwargs)
        return super().__new__(cls)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: ``Inc(x=1).out`` read like a node's output
        if not name.startswith("__") and name in type(self)._outputs:
            task = type(self).__name__
            raise NotANodeError(
                f"{self!r}.{name}: a task definition has no outputs until it runs; inside a "
                f"@workflow.define function add it as a node first: "
                f"workflow.add({task}(...)).{name}; outside a workflow run it: "
                f"{task}(...)().{name}"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __attrs_post_init__(self) -> None:
        task = type(self).__name__
        for name, spec in self._inputs.items():
            value = getattr(self, name)
            if value is MISSING or (value is None and spec.default is None):
                continue
            object.__setattr__(self, name, _checked(task, spec, value))

    @classmethod
    def _identity_parts(cls) -> tuple[Any, ...]:
        """Hashable values that decide what this kind of task does (its code,
        its command ...): part of every job checksum (see :mod:`plait.identity`)."""
        raise NotImplementedError(
            f"{cls.__name__}: a definition kind must define _identity_parts(), the values "
            "that decide its behaviour"
        )

    # -- state --------------------------------------------------------------
    def split(self, splitter: Any = None, /, **values: Any) -> TaskDef:
        """Split this task over input values: one job per element.

        ``split(a=[1, 2])`` splits one field; ``split(a=A, b=B)`` or
        ``split(["a", "b"], a=A, b=B)`` splits over the outer product;
        ``split(("a", "b"), a=A, b=B)`` zips ``a`` and ``b``.
        """
        task = type(self).__name__
        if self._splitter is not None:
            raise StateError(f"{task}: already split by {self._splitter!r}; split only once")
        if splitter is None:
            if not values:
                raise StateError(f"{task}: split() needs a splitter or field=values")
            names = list(values)
            splitter = names[0] if len(names) == 1 else names
        parsed = Splitter.parse(splitter, task)
        # "_Node" names the state inherited from upstream node Node (checked in the workflow)
        split_fields = parsed.fields
        for name in values:
            if name not in split_fields:
                raise StateError(
                    f"{task}: split value given for {name!r}, which the splitter "
                    f"{splitter!r} does not name"
                )
        new = copy.copy(self)
        for name in split_fields:
            if name not in self._inputs:
                raise StateError(
                    f"{task}: cannot split over {name!r}: no such input "
                    f"(inputs: {', '.join(self._inputs) or 'none'})"
                )
            value = values[name] if name in values else getattr(self, name)
            if value is MISSING:
                raise StateError(f"{task}: splitter names {name!r} but no values were given")
            object.__setattr__(new, name, _checked_split(task, self._inputs[name], value))
        for axis in parsed.axes:
            _check_scalar_lengths(task, new, [f for f in axis if not f.startswith("_")])
        object.__setattr__(new, "_splitter", parsed)
        return new

    def combine(self, combiner: str | list[str] | tuple[str, ...]) -> TaskDef:
        """Group the outputs over the named split axes (own ``"a"`` or inherited ``"Node.a"``)."""
        task = type(self).__name__
        names = parse_combiner(combiner, task)
        own = {f for ax in self._splitter.axes for f in ax} if self._splitter else set()
        for name in names:
            if "." in name or name in own:
                continue
            upstream = sorted({v.node for v in self.input_values().values() if is_lazy(v)})
            hint = ""
            if upstream:
                hint = (
                    f"; to combine an axis inherited from an upstream node, name it "
                    f"'<Node>.{name}' (e.g. combine({upstream[0] + '.' + name!r}))"
                )
            if self._splitter is None:
                raise StateError(f"{task}: cannot combine {name!r}: the task is not split{hint}")
            raise StateError(
                f"{task}: cannot combine {name!r}: it is not split "
                f"(splitter: {self._splitter!r}){hint}"
            )
        new = copy.copy(self)
        object.__setattr__(new, "_combiner", self._combiner + names)
        return new

    # -- running ------------------------------------------------------------
    def __call__(self, worker: Any = None, **kwargs: Any) -> Any:
        """Run this task (or workflow) and return its outputs.

        Keyword arguments go to :class:`plait.Submitter` (``cache_root``,
        ``readonly_caches``, ``hooks``) and to the worker (``n_procs``, ...).
        Raises :class:`plait.errors.JobFailedError` if any job failed.
        """
        if _RUNNER is None:  # plait/__init__ installs the Submitter-based runner
            raise RuntimeError("import plait to run definitions")
        result: Result = _RUNNER(self, worker, kwargs)
        result.raise_for_errors()
        return result.outputs

    @classmethod
    def outputs_from(cls, values: Mapping[str, Any]) -> Any:
        """The definition's outputs object (``.out`` ...) from a dict of output values."""
        return cls._outputs_class(**{name: values.get(name) for name in cls._outputs})

    # -- introspection --------------------------------------------------------
    def input_values(self) -> dict[str, Any]:
        """The inputs as a dict (unset inputs are ``MISSING``)."""
        return {name: getattr(self, name) for name in self._inputs}

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={v!r}" for n, v in self.input_values().items() if v is not MISSING)
        text = f"{type(self).__name__}({args})"
        if self._splitter is not None:
            text += f".split({self._splitter!r})"
        if self._combiner:
            text += f".combine({list(self._combiner)!r})"
        return text


def _bad_arguments(cls: type[TaskDef], args: tuple[Any, ...], kwargs: dict[str, Any]) -> InputError:
    """The error for positional arguments or unknown keywords at creation."""
    task = cls.__name__
    listing = "; inputs: " + (", ".join(map(_describe, cls._inputs.values())) or "none")
    if args:
        example = next(iter(cls._inputs), "name")
        plural = "s" if len(args) > 1 else ""
        return InputError(
            f"{task}: inputs are given by keyword, e.g. {task}({example}=...); "
            f"got {len(args)} positional argument{plural}{listing}"
        )
    unknown = [k for k in kwargs if k not in cls._inputs]
    if len(unknown) == 1:
        import difflib  # only on this error path: keeps `import plait` light

        close = difflib.get_close_matches(unknown[0], cls._inputs, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return InputError(f"{task}: no input named {unknown[0]!r}{hint}{listing}")
    names = ", ".join(map(repr, unknown))
    return InputError(f"{task}: no inputs named {names}{listing}")


def _describe(spec: Field) -> str:
    default = "" if spec.default is MISSING else f" = {spec.default!r}"
    return f"{spec.name} ({type_name(spec.type)}{default})"


def _check_scalar_lengths(task: str, defn: TaskDef, fields: list[str]) -> None:
    """Zipped fields whose values are known must have equal lengths."""
    lengths = {f: len(v) for f in fields if not is_lazy(v := getattr(defn, f))}
    if len(set(lengths.values())) > 1:
        raise StateError(
            f"{task}: scalar splitter {tuple(fields)!r} needs equal lengths, got "
            + ", ".join(f"{f}={n}" for f, n in lengths.items())
        )


def _checked(task: str, spec: Field, value: Any) -> Any:
    if is_lazy(value):
        if not compatible(value.type, spec.type):
            raise InputError(
                f"{task}.{spec.name}: cannot connect {value!r} ({type_name(value.type)}) "
                f"to an input of type {type_name(spec.type)}"
            )
        return value
    try:
        return check_value(value, spec.type)
    except TypeError as e:
        raise InputError(f"{task}.{spec.name}: {e}") from None


def _checked_split(task: str, spec: Field, value: Any) -> Any:
    if is_lazy(value):
        return value
    if not isinstance(value, (list, tuple)) and not _is_array(value):
        raise StateError(
            f"{task}.{spec.name}: split values must be a list, got {type(value).__name__}"
        )
    items = []
    for i, item in enumerate(value):
        if is_lazy(item):
            raise StateError(f"{task}.{spec.name}: split element {i} is a lazy reference")
        try:
            items.append(check_value(item, spec.type))
        except TypeError as e:
            raise InputError(f"{task}.{spec.name}[{i}]: {e}") from None
    return items


def _is_array(value: Any) -> bool:
    return hasattr(value, "__array__") and hasattr(value, "__len__")


def make_outputs_class(name: str, outputs: Mapping[str, Field]) -> type:
    """An attrs class whose instances hold one run's outputs."""
    cls = attrs.make_class(
        f"{name}Outputs",
        {n: attrs.field(default=None) for n in outputs},
        frozen=True,
        kw_only=True,
    )
    cls.__doc__ = f"Outputs of {name}: {', '.join(outputs)}."
    return cls


_Def = TypeVar("_Def", bound=TaskDef)


def make_definition_class(
    name: str,
    base: type[_Def],
    inputs: Mapping[str, Field],
    outputs: Mapping[str, Field],
    module: str,
    doc: str | None,
    namespace: Mapping[str, Any] | None = None,
    qualname: str | None = None,
) -> type[_Def]:
    """Build the attrs class of a definition from its field specs.

    ``name`` is the class's ``__name__``: what node names, labels and errors
    show. ``module`` and ``qualname`` (default: ``name``) say where the class
    can be found (``getattr(sys.modules[module], qualname)``), so that
    ``pickle`` and cloudpickle ship it by reference; the outputs class is
    found as ``<qualname>._outputs_class``. attrs sets ``__module__`` to the
    caller of ``make_class``, so both are set here, after the class is built.
    """
    these = {
        n: attrs.field(default=f.default if f.default is not MISSING else MISSING)
        for n, f in inputs.items()
    }
    cls: type[_Def] = attrs.make_class(
        name,
        these,
        bases=(base,),
        frozen=True,
        kw_only=True,
        repr=False,
        eq=True,
        class_body={
            "_inputs": dict(inputs),
            "_outputs": dict(outputs),
            "__doc__": doc,
            **(namespace or {}),
        },
    )
    outputs_class = make_outputs_class(name, outputs)
    cls._outputs_class = outputs_class
    qualname = qualname or name
    for klass, qual in ((cls, qualname), (outputs_class, f"{qualname}._outputs_class")):
        klass.__module__ = module
        klass.__qualname__ = qual
    return cls
