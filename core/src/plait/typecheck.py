"""Type checking and safe coercion of input values.

``check_value(value, tp)`` returns the value, coerced where that is safe
(``int`` to ``float``, ``str``/``Path`` to a fileformats file, a tuple to a
list), or raises ``TypeError`` describing the expected and the given type.
fileformats is imported only when a fileformats type is involved, so that
``import plait`` stays cheap.
"""

from __future__ import annotations

import os
import sys
import types
import typing
from pathlib import Path, PurePath
from typing import Any, Union

_NONE_TYPE = type(None)


def _is_fileset_type(tp: Any) -> bool:
    core = sys.modules.get("fileformats.core")
    if core is None or not isinstance(tp, type):
        return False
    return issubclass(tp, core.FileSet)


def is_fileset_type(tp: Any) -> bool:
    """True if ``tp`` is a fileformats FileSet class (File, Directory, ...)."""
    if not isinstance(tp, type) or "fileformats" not in getattr(tp, "__module__", ""):
        # user-defined subclasses of fileformats types live elsewhere
        return isinstance(tp, type) and _is_fileset_type(tp)
    return _is_fileset_type(tp) or _import_fileformats_core_and_check(tp)


def _import_fileformats_core_and_check(tp: type) -> bool:
    import fileformats.core

    return issubclass(tp, fileformats.core.FileSet)


def type_name(tp: Any) -> str:
    """A short readable name for a type annotation."""
    if tp is Any:
        return "Any"
    if isinstance(tp, type) and not typing.get_args(tp):
        mime = getattr(tp, "mime_like", None) if is_fileset_type(tp) else None
        return mime if isinstance(mime, str) else tp.__name__
    return str(tp).replace("typing.", "")


def check_value(value: Any, tp: Any) -> Any:
    """Return ``value`` checked against ``tp`` (coerced where safe); raise TypeError otherwise."""
    if tp is Any or tp is object or tp is None:
        return value
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        errors = []
        for arg in typing.get_args(tp):
            try:
                return check_value(value, arg)
            except TypeError as e:
                errors.append(str(e))
        raise TypeError(f"expected {type_name(tp)}, got {type(value).__name__} {value!r:.80}")
    if tp is _NONE_TYPE:
        if value is None:
            return None
        raise TypeError(f"expected None, got {type(value).__name__}")
    if origin is not None:
        return _check_generic(value, tp, origin)
    if tp is float:
        if isinstance(value, float):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise _mismatch(value, tp)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if _is_numpy_integer(value):
            return int(value)
        raise _mismatch(value, tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _mismatch(value, tp)
    if tp is str:
        if isinstance(value, str):
            return value
        raise _mismatch(value, tp)
    if tp in (Path, PurePath, os.PathLike):
        if isinstance(value, (str, PurePath)):
            return Path(value)
        if is_fileset_type(type(value)):
            return Path(value.fspath)
        raise _mismatch(value, tp)
    if isinstance(tp, type) and is_fileset_type(tp):
        return _check_fileset(value, tp)
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if tp is list and isinstance(value, tuple):
            return list(value)
        raise _mismatch(value, tp)
    return value


def _is_numpy_integer(value: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.integer)


def _mismatch(value: Any, tp: Any) -> TypeError:
    return TypeError(f"expected {type_name(tp)}, got {type(value).__name__} {value!r:.80}")


def _check_fileset(value: Any, tp: type) -> Any:
    if isinstance(value, tp):
        return value
    if isinstance(value, (str, PurePath)):
        try:
            return tp(value)
        except Exception as e:  # fileformats raises several kinds
            raise TypeError(f"expected {type_name(tp)}: {str(e).splitlines()[0]}") from None
    if is_fileset_type(type(value)):
        try:
            return tp(value.fspaths)
        except Exception as e:
            raise TypeError(
                f"expected {type_name(tp)}, got {type_name(type(value))}: {str(e).splitlines()[0]}"
            ) from None
    raise _mismatch(value, tp)


def _check_generic(value: Any, tp: Any, origin: Any) -> Any:
    args = typing.get_args(tp)
    if origin in (list, typing.Sequence, typing.MutableSequence) or origin is _abc_sequence():
        if not isinstance(value, (list, tuple)):
            raise _mismatch(value, tp)
        inner = args[0] if args else Any
        items = [check_value(v, inner) for v in value]
        return items if origin is list else type(value)(items)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _mismatch(value, tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_value(v, args[0]) for v in value)
        if args and len(args) != len(value):
            raise TypeError(f"expected {type_name(tp)}, got a sequence of length {len(value)}")
        return tuple(check_value(v, a) for v, a in zip(value, args or [Any] * len(value)))
    if origin in (dict, typing.Mapping) or origin is _abc_mapping():
        if not isinstance(value, dict):
            raise _mismatch(value, tp)
        kt, vt = args if args else (Any, Any)
        return {check_value(k, kt): check_value(v, vt) for k, v in value.items()}
    if origin in (set, frozenset):
        if not isinstance(value, (set, frozenset, list, tuple)):
            raise _mismatch(value, tp)
        inner = args[0] if args else Any
        return origin(check_value(v, inner) for v in value)
    if origin is typing.Literal:
        if value in args:
            return value
        raise TypeError(f"expected one of {args!r}, got {value!r:.80}")
    if isinstance(origin, type) and not isinstance(value, origin):
        raise _mismatch(value, tp)
    return value


def _abc_sequence() -> Any:
    import collections.abc

    return collections.abc.Sequence


def _abc_mapping() -> Any:
    import collections.abc

    return collections.abc.Mapping


def element_type(tp: Any) -> Any:
    """The element type of a list annotation (``list[int]`` -> ``int``), else Any."""
    origin = typing.get_origin(tp)
    if origin in (list, tuple, typing.Sequence) or origin is _abc_sequence():
        args = typing.get_args(tp)
        return args[0] if args else Any
    return Any


def compatible(source: Any, target: Any) -> bool:
    """Whether a lazily connected output of type ``source`` may feed an input of ``target``.

    Loose on purpose: only connections that can never succeed are rejected
    (an ``int`` into a File, a ``str`` into an ``int``).
    """
    if source is Any or target is Any or source is None or target is None:
        return True
    if source is object or target is object:
        return True
    t_origin = typing.get_origin(target)
    s_origin = typing.get_origin(source)
    if t_origin is Union or t_origin is types.UnionType:
        return any(compatible(source, a) for a in typing.get_args(target))
    if s_origin is Union or s_origin is types.UnionType:
        return any(compatible(a, target) for a in typing.get_args(source))
    s_base = s_origin or source
    t_base = t_origin or target
    if not (isinstance(s_base, type) and isinstance(t_base, type)):
        return True
    if s_base in (list, tuple) and t_base in (list, tuple):
        return compatible(element_type(source), element_type(target))
    if issubclass(s_base, t_base):
        return True
    if t_base is float and s_base is int:
        return True
    if is_fileset_type(t_base):
        return s_base in (str, Path, PurePath) or is_fileset_type(s_base)
    if t_base in (Path, PurePath):
        return s_base is str or is_fileset_type(s_base)
    if is_fileset_type(s_base) and is_fileset_type(t_base):
        return True
    return False
