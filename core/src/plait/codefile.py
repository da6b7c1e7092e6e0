"""Keep a task function's real file name when it travels by value to a worker.

cloudpickle pickles a function that its worker cannot import (a task defined in
``__main__``, a notebook, or a definition class built at run time) by value, and
replaces the file name of its code object with ``"<dynamic-code>"`` so that its
payload does not depend on where it was defined. A traceback from the worker
then shows ``File "<dynamic-code>"``. :func:`restore_filename` puts the file
name recorded at definition time back into the function's code objects (and into
the functions of the same module that it reaches through its globals), so every
worker's traceback names the user's file and line, like the ``debug`` worker's.
"""

from __future__ import annotations

import types
from typing import Any

#: the file name cloudpickle gives code objects it rebuilds
DYNAMIC = "<dynamic-code>"


def _fix_code(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(
        _fix_code(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(co_filename=filename, co_consts=consts)


def restore_filename(func: Any, filename: str | None) -> None:
    """Give ``func`` (and same-module functions it reads as globals) back ``filename``.

    A no-op where the code already has its file name (the defining process, or
    a worker that imported the function by reference).
    """
    code = getattr(func, "__code__", None)
    if not filename or code is None or code.co_filename != DYNAMIC:
        return
    func.__code__ = _fix_code(code, filename)
    module = getattr(func, "__module__", None)
    for value in list(getattr(func, "__globals__", {}).values()):
        inner = getattr(value, "__code__", None)
        if (
            isinstance(value, types.FunctionType)
            and inner is not None
            and inner.co_filename == DYNAMIC
            and value.__module__ == module
        ):
            value.__code__ = _fix_code(inner, filename)
