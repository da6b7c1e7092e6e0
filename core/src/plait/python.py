"""``python.define``: turn a typed Python function into a task definition.

Example::

    from plait import python

    @python.define
    def TenToThePower(p: int) -> int:
        return 10 ** p

    @python.define(outputs=["quotient", "remainder"])
    def DivMod(a: int, b: int) -> tuple[int, int]:
        return divmod(a, b)

    TenToThePower(p=3)()            # outputs with .out == 1000
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, overload

from .codefile import restore_filename
from .definition import TaskDef, make_definition_class
from .errors import DefinitionError
from .fields import MISSING, Field
from .hashing import hash_function
from .resources import make_resources

__all__ = ["PythonDef", "define"]


class PythonDef(TaskDef):
    """Base class of definitions made by :func:`define`; ``_function`` is the wrapped function."""

    _kind: ClassVar[str] = "python"
    _function: ClassVar[Callable[..., Any]]
    #: the file the function was defined in (tracebacks on every worker name it)
    _filename: ClassVar[str | None] = None

    @classmethod
    def _identity_parts(cls) -> tuple[Any, ...]:
        """The function's identity (code and the values it reads; see ``hash_function``)."""
        return (hash_function(cls._function),)

    def _execute(self, job_dir: str, environment: Any = None) -> dict[str, Any]:
        """Call the function with this instance's inputs; return outputs by name."""
        func = type(self)._function
        restore_filename(func, type(self)._filename)
        kwargs = {n: getattr(self, n) for n in self._inputs}
        value = func(**kwargs)
        names = list(self._outputs)
        if len(names) == 1:
            outputs = {names[0]: value}
        elif len(names) == 0:
            outputs = {}
        elif not isinstance(value, (tuple, list)) or len(value) != len(names):
            raise DefinitionError(
                f"{type(self).__name__}: the function must return {len(names)} values "
                f"({', '.join(names)}), got {type(value).__name__}"
            )
        else:
            outputs = dict(zip(names, value))
        return {n: _adopt_files(v, job_dir) for n, v in outputs.items()}


def _adopt_files(value: Any, job_dir: str) -> Any:
    """Copy returned files that live outside the job directory into it.

    The cache then holds everything a result refers to, however the function
    made its files (in a temporary directory, next to its inputs ...).
    """
    if isinstance(value, (list, tuple)):
        return type(value)(_adopt_files(v, job_dir) for v in value)
    if isinstance(value, dict):
        return {k: _adopt_files(v, job_dir) for k, v in value.items()}
    fspaths = getattr(value, "fspaths", None)
    if fspaths is None or isinstance(value, (str, bytes)) or not hasattr(value, "copy"):
        return value
    root = os.path.realpath(job_dir) + os.sep
    if all(os.path.realpath(p).startswith(root) for p in fspaths):
        return value
    return value.copy(job_dir, avoid_clashes=True)


@overload
def define(func: Callable[..., Any], /) -> type[PythonDef]: ...


@overload
def define(
    *,
    outputs: Sequence[str] | Mapping[str, Any] | None = None,
    name: str | None = None,
    cpus: int | None = None,
    memory: int | str | None = None,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], type[PythonDef]]: ...


def define(
    func: Callable[..., Any] | None = None,
    /,
    *,
    outputs: Sequence[str] | Mapping[str, Any] | None = None,
    name: str | None = None,
    cpus: int | None = None,
    memory: int | str | None = None,
    timeout: float | None = None,
) -> Any:
    """Make a task definition class from ``func``; usable bare or with arguments.

    Inputs come from the parameters (types from annotations, defaults, help
    from the docstring), outputs from the return annotation: one output
    ``out``, or the names in ``outputs`` for a returned tuple.
    ``cpus``/``memory`` declare the resources each job needs; ``timeout``
    (seconds) stops a job that runs longer, on workers that can (``cf``).
    """

    def wrap(f: Callable[..., Any]) -> type[PythonDef]:
        return _build(f, outputs, name, cpus, memory, timeout)

    return wrap(func) if func is not None else wrap


def _build(
    func: Callable[..., Any],
    outputs: Sequence[str] | Mapping[str, Any] | None,
    name: str | None,
    cpus: int | None,
    memory: int | str | None,
    timeout: float | None = None,
) -> type[PythonDef]:
    if not callable(func):
        raise DefinitionError(f"python.define needs a function, got {func!r}")
    task = name or func.__name__
    inputs, out_fields = function_fields(func, task, outputs)
    cls = make_definition_class(
        task,
        PythonDef,
        inputs,
        out_fields,
        module=func.__module__,
        doc=func.__doc__,
        namespace={
            "_function": staticmethod(func),
            "_filename": getattr(getattr(func, "__code__", None), "co_filename", None),
            "_resources": make_resources(cpus, memory, timeout),
        },
        qualname=getattr(func, "__qualname__", task),
    )
    return cls


def function_fields(
    func: Callable[..., Any], task: str, outputs: Sequence[str] | Mapping[str, Any] | None
) -> tuple[dict[str, Field], dict[str, Field]]:
    """Input fields from ``func``'s parameters (types, defaults, docstring help); output fields.

    Shared by :func:`define` and ``workflow.define``: both read a function's
    signature the same way.
    """
    import inspect

    hints = _type_hints(func, task)
    helps = parse_docstring_params(func.__doc__ or "")
    inputs: dict[str, Field] = {}
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DefinitionError(f"{task}: *args/**kwargs are not supported as inputs")
        default = MISSING if p.default is p.empty else p.default
        inputs[p.name] = Field(p.name, hints.get(p.name, Any), default, helps.get(p.name, ""))
    return inputs, output_fields(task, hints.get("return", Any), outputs)


def _type_hints(func: Callable[..., Any], task: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception as e:
        raise DefinitionError(f"{task}: cannot read type annotations: {e}") from None


def output_fields(
    task: str, return_type: Any, outputs: Sequence[str] | Mapping[str, Any] | None
) -> dict[str, Field]:
    """Output fields from a return annotation and the optional ``outputs`` names/types."""
    if outputs is None:
        return {"out": Field("out", return_type)}
    if isinstance(outputs, Mapping):
        return {n: Field(n, t) for n, t in outputs.items()}
    names = list(outputs)
    if isinstance(outputs, str):
        names = [outputs]
    if len(names) == 1:
        return {names[0]: Field(names[0], return_type)}
    args = typing.get_args(return_type) if typing.get_origin(return_type) is tuple else ()
    if args and len(args) != len(names):
        raise DefinitionError(
            f"{task}: {len(names)} output names {names} but the return annotation "
            f"has {len(args)} elements"
        )
    types = list(args) if args else [Any] * len(names)
    return {n: Field(n, t) for n, t in zip(names, types)}


_PARAM_RE = re.compile(r"^\s*:param\s+(\w+)\s*:\s*(.*)$")
_GOOGLE_RE = re.compile(r"^\s{2,}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")


def parse_docstring_params(doc: str) -> dict[str, str]:
    """Help texts per parameter from reST (``:param x: ...``) or Google (``x (int): ...``) style."""
    helps: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        m = _PARAM_RE.match(line)
        if m:
            helps[m.group(1)] = m.group(2).strip()
            continue
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:", "inputs:"):
            in_args = True
            continue
        if in_args:
            if stripped and not line.startswith(" "):
                in_args = False
                continue
            g = _GOOGLE_RE.match(line)
            if g:
                helps[g.group(1)] = g.group(2).strip()
    return helps
