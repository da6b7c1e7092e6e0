"""Content hashing of values and functions: the basis of job checksums.

Every value that can be an input of a job is turned into a stream of bytes by
:func:`bytes_repr` and hashed with BLAKE3 by :func:`hash_object`::

    >>> from plait.hashing import hash_object
    >>> hash_object({"a": 1, "b": [1.0, "x"]}) == hash_object({"b": [1.0, "x"], "a": 1})
    True
    >>> hash_object(1) == hash_object(1.0)
    False

The stream is type-tagged (``1``, ``1.0``, ``"1"``, ``True``, ``[1]`` and
``(1,)`` all differ), independent of dict insertion order and set iteration
order, and contains no ``id()``, memory address or ``hash()`` of a ``str``, so
the same value hashes the same in every process, on every host and under every
``PYTHONHASHSEED``.

Files and directories (fileformats ``FileSet`` objects) are hashed by content,
through the persistent file-hash cache of :mod:`plait.filehash`. Functions are
hashed by :func:`hash_function`: the syntax tree of their source (the same on
every Python version) plus the values of the globals and closure variables
they read.

Extending to your own types
---------------------------
Register a generator on :func:`bytes_repr` that yields bytes identifying the
value; compose with ``bytes_repr`` for the parts::

    from plait.hashing import bytes_repr, type_ident

    @bytes_repr.register(Point)
    def _(obj: Point) -> Iterator[bytes]:
        yield type_ident(Point)
        yield from bytes_repr((obj.x, obj.y))

attrs and dataclass instances need no registration. The representations of the
built-in types (None, bool, int, float, complex, str, bytes, bytearray, list,
tuple, dict, set, frozenset) are part of the hash format and cannot be
overridden; register subclasses instead.
"""

from __future__ import annotations

import ast
import functools
import linecache
import logging
import operator
import os
import struct
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import PurePath
from typing import Any

from blake3 import blake3

logger = logging.getLogger(__name__)

__all__ = [
    "HASH_FORMAT_VERSION",
    "bytes_repr",
    "hash_function",
    "hash_object",
    "type_ident",
]

#: Version of the byte representation. Bump it whenever the bytes produced for
#: any value change, so old cache entries are not taken for new ones.
HASH_FORMAT_VERSION: int = 2

#: Bytes of digest used for hex object hashes, dict-key/set-element ordering and
#: function identities (128 bits).
_DIGEST_LEN = 16

# A chunk at least this long bypasses the small-chunk buffer and goes straight
# to the hasher; the buffer is flushed to the hasher when it grows past _FLUSH.
_BIG_CHUNK = 1 << 16
_FLUSH = 1 << 20

_pack_q = struct.Struct("<q").pack
_pack_Q = struct.Struct("<Q").pack
_pack_d = struct.Struct("<d").pack
_pack_dd = struct.Struct("<dd").pack
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_NAN = _pack_d(float("nan"))


# --------------------------------------------------------------------------
# Encoders of exact built-in scalar types: value -> bytes
# --------------------------------------------------------------------------


def _enc_none(obj: None) -> bytes:
    return b"N"


def _enc_bool(obj: bool) -> bytes:
    return b"B\x01" if obj else b"B\x00"


def _enc_int(obj: int) -> bytes:
    if _INT64_MIN <= obj <= _INT64_MAX:
        return b"i" + _pack_q(obj)
    raw = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
    return b"I" + _pack_Q(len(raw)) + raw


def _enc_float(obj: float) -> bytes:
    if obj != obj:  # all NaNs are one value
        return b"f" + _NAN
    return b"f" + _pack_d(obj)


def _enc_complex(obj: complex) -> bytes:
    return b"c" + _pack_dd(obj.real, obj.imag)


def _enc_str(obj: str) -> bytes:
    raw = obj.encode("utf-8", "surrogatepass")
    return b"s" + _pack_Q(len(raw)) + raw


def _enc_bytes(obj: bytes) -> bytes:
    return b"y" + _pack_Q(len(obj)) + obj


def _enc_bytearray(obj: bytearray) -> bytes:
    return b"Y" + _pack_Q(len(obj)) + obj


def _enc_ellipsis(obj: Any) -> bytes:
    return b"."


_SCALARS: dict[type, Callable[[Any], bytes]] = {
    type(None): _enc_none,
    bool: _enc_bool,
    int: _enc_int,
    float: _enc_float,
    complex: _enc_complex,
    str: _enc_str,
    bytes: _enc_bytes,
    bytearray: _enc_bytearray,
    type(Ellipsis): _enc_ellipsis,
}


def type_ident(cls: type) -> bytes:
    """Bytes naming a class by module and qualified name, for ``bytes_repr`` handlers.

    >>> type_ident(int)
    b's\\x0c\\x00\\x00\\x00\\x00\\x00\\x00\\x00builtins.int'
    """
    return _enc_str(f"{cls.__module__}.{cls.__qualname__}")


# --------------------------------------------------------------------------
# The fast writer used by hash_object: exact built-in types are encoded
# inline into one bytearray; everything else goes through bytes_repr.
# --------------------------------------------------------------------------


def _feed(obj: object, buf: bytearray, h: blake3) -> None:
    """Append the bytes_repr stream of ``obj`` to ``buf`` (flushing into ``h``)."""
    t = type(obj)
    # str and small ints inline: most job inputs are those (same bytes as _enc_*)
    if t is str:
        raw = obj.encode("utf-8", "surrogatepass")  # type: ignore[attr-defined]
        buf += b"s"
        buf += _pack_Q(len(raw))
        buf += raw
        return
    if t is int and _INT64_MIN <= obj <= _INT64_MAX:  # type: ignore[operator]
        buf += b"i"
        buf += _pack_q(obj)
        return
    enc = _SCALARS.get(t)
    if enc is not None:
        buf += enc(obj)
        return
    container = _CONTAINERS.get(t)
    if container is not None:
        container(obj, buf, h)
        return
    for chunk in bytes_repr(obj):
        if len(chunk) >= _BIG_CHUNK:
            if buf:
                h.update(buf)
                del buf[:]
            h.update(chunk)
        else:
            buf += chunk
    if len(buf) >= _FLUSH:
        h.update(buf)
        del buf[:]


def _feed_sequence(tag: bytes) -> Callable[[Any, bytearray, blake3], None]:
    def feed(obj: Any, buf: bytearray, h: blake3) -> None:
        buf += tag
        buf += _pack_Q(len(obj))
        for item in obj:
            _feed(item, buf, h)

    return feed


def _feed_dict(obj: dict[Any, Any], buf: bytearray, h: blake3) -> None:
    buf += b"D"
    buf += _pack_Q(len(obj))
    for key_bytes, value in _sorted_items(obj):
        buf += key_bytes
        _feed(value, buf, h)


def _feed_set(tag: bytes) -> Callable[[Any, bytearray, blake3], None]:
    def feed(obj: Any, buf: bytearray, h: blake3) -> None:
        buf += tag
        buf += _pack_Q(len(obj))
        for item_bytes in sorted(map(_encode, obj)):
            buf += item_bytes

    return feed


_CONTAINERS: dict[type, Callable[[Any, bytearray, blake3], None]] = {
    list: _feed_sequence(b"L"),
    tuple: _feed_sequence(b"T"),
    dict: _feed_dict,
    set: _feed_set(b"S"),
    frozenset: _feed_set(b"Z"),
}


def _encode(obj: object) -> bytes:
    """The whole bytes_repr stream of one value as bytes (for small values)."""
    if type(obj) is str:
        raw = obj.encode("utf-8", "surrogatepass")
        return b"s" + _pack_Q(len(raw)) + raw
    enc = _SCALARS.get(type(obj))
    if enc is not None:
        return enc(obj)
    return b"".join(bytes_repr(obj))


def _sorted_items(obj: dict[Any, Any]) -> list[tuple[bytes, Any]]:
    """Dict entries ordered by the bytes of their keys: independent of insertion order."""
    items = [(_encode(k), v) for k, v in obj.items()]
    items.sort(key=_first)
    return items


_first = operator.itemgetter(0)


def hash_object(obj: object) -> str:
    """Hex BLAKE3 digest (32 hex chars, 128 bits) of the ``bytes_repr`` stream of ``obj``.

    Equal values give equal hashes in any process and under any
    ``PYTHONHASHSEED``; files are hashed by content (see :mod:`plait.filehash`).
    Raises ``TypeError`` for a value of a type with no byte representation.

    >>> hash_object([1, "a"]) == hash_object((1, "a"))
    False
    """
    enc = _SCALARS.get(type(obj))
    if enc is not None:
        return blake3(enc(obj)).hexdigest(_DIGEST_LEN)
    h = blake3()
    buf = bytearray()
    _feed(obj, buf, h)
    h.update(buf)
    return h.hexdigest(_DIGEST_LEN)


# --------------------------------------------------------------------------
# bytes_repr: the public, extensible single-dispatch generator
# --------------------------------------------------------------------------


@functools.singledispatch
def bytes_repr(obj: object) -> Iterator[bytes]:
    """Yield bytes that identify ``obj`` by value; extend with ``@bytes_repr.register``.

    ``hash_object(x)`` is the BLAKE3 digest of ``b"".join(bytes_repr(x))``.
    Register a generator for your own type (see the module docstring); attrs
    and dataclass instances, enums, paths, types, functions, numpy arrays and
    fileformats file sets are handled already. An unknown type raises a
    ``TypeError`` telling how to register it: a value is never hashed by its
    ``repr()`` or ``id()``.

    >>> b"".join(bytes_repr(1)) != b"".join(bytes_repr(1.0))
    True
    """
    if _register_lazy_handlers():
        # numpy or fileformats was imported since: their handlers now apply
        return bytes_repr(obj)
    cls = type(obj)
    if getattr(cls, "__attrs_attrs__", None) is not None:
        return _attrs_repr(obj)
    if getattr(cls, "__dataclass_fields__", None) is not None and not isinstance(obj, type):
        return _dataclass_repr(obj)
    raise TypeError(
        f"plait cannot hash an object of type {cls.__module__}.{cls.__qualname__}: "
        f"register a byte representation for it with "
        f"`@plait.hashing.bytes_repr.register({cls.__qualname__})` on a generator "
        f"that yields bytes identifying the value (see docs/hashing.md)"
    )


def _builtin_repr(base: type, enc: Callable[[Any], bytes]) -> Callable[[Any], Iterator[bytes]]:
    """bytes_repr handler for a built-in scalar type and its subclasses."""

    def handler(obj: Any) -> Iterator[bytes]:
        cls = type(obj)
        if cls is not base:
            special = _special_subclass_repr(obj)
            if special is not None:
                yield from special
                return
            yield b"X" + type_ident(cls)
        yield enc(base(obj) if cls is not base else obj)

    return handler


def _special_subclass_repr(obj: Any) -> Iterator[bytes] | None:
    """Enum members and numpy scalars that subclass a built-in type."""
    if isinstance(obj, Enum):
        return _enum_repr(obj)
    if type(obj).__module__ == "numpy":
        _register_lazy_handlers()  # numpy scalars subclassing float, str, ...
        return bytes_repr.dispatch(type(obj))(obj)
    return None


for _base, _enc in _SCALARS.items():
    if _base is not bool and _base is not type(None) and _base is not type(Ellipsis):
        bytes_repr.register(_base, _builtin_repr(_base, _enc))


@bytes_repr.register(bool)
def _bool_repr(obj: bool) -> Iterator[bytes]:
    yield _enc_bool(obj)


@bytes_repr.register(type(None))
def _none_repr(obj: None) -> Iterator[bytes]:
    yield b"N"


@bytes_repr.register(type(Ellipsis))
def _ellipsis_repr(obj: Any) -> Iterator[bytes]:
    yield b"."


def _sequence_repr(base: type, tag: bytes) -> Callable[[Any], Iterator[bytes]]:
    def handler(obj: Any) -> Iterator[bytes]:
        if type(obj) is not base:
            special = _special_subclass_repr(obj)
            if special is not None:
                yield from special
                return
            yield b"X" + type_ident(type(obj))
        yield tag + _pack_Q(len(obj))
        for item in obj:
            yield from bytes_repr(item)

    return handler


bytes_repr.register(list, _sequence_repr(list, b"L"))
bytes_repr.register(tuple, _sequence_repr(tuple, b"T"))


@bytes_repr.register(dict)
def _dict_repr(obj: dict[Any, Any]) -> Iterator[bytes]:
    if type(obj) is not dict:
        yield b"X" + type_ident(type(obj))
    yield b"D" + _pack_Q(len(obj))
    for key_bytes, value in _sorted_items(obj):
        yield key_bytes
        yield from bytes_repr(value)


def _set_repr(base: type, tag: bytes) -> Callable[[Any], Iterator[bytes]]:
    def handler(obj: Any) -> Iterator[bytes]:
        if type(obj) is not base:
            yield b"X" + type_ident(type(obj))
        yield tag + _pack_Q(len(obj))
        yield b"".join(sorted(map(_encode, obj)))

    return handler


bytes_repr.register(set, _set_repr(set, b"S"))
bytes_repr.register(frozenset, _set_repr(frozenset, b"Z"))


@bytes_repr.register(memoryview)
def _memoryview_repr(obj: memoryview) -> Iterator[bytes]:
    data = obj.cast("B") if obj.c_contiguous else memoryview(obj.tobytes())
    yield b"m" + _enc_str(obj.format) + _pack_Q(len(obj.shape or ()))
    yield b"".join(_pack_Q(n) for n in obj.shape or ())
    yield _pack_Q(data.nbytes)
    yield data  # type: ignore[misc]


@bytes_repr.register(PurePath)
def _path_repr(obj: PurePath) -> Iterator[bytes]:
    # A plain path is a name, not content: wrap it in a fileformats type (File,
    # Directory, ...) to hash what it points to.
    yield b"P" + _enc_str(obj.as_posix())


@bytes_repr.register(Enum)
def _enum_repr(obj: Enum) -> Iterator[bytes]:
    yield b"E" + type_ident(type(obj)) + _enc_str(obj.name)
    yield from bytes_repr(obj.value)


@bytes_repr.register(type)
def _type_repr(obj: type) -> Iterator[bytes]:
    yield b"C" + type_ident(obj)


@bytes_repr.register(types.ModuleType)
def _module_repr(obj: types.ModuleType) -> Iterator[bytes]:
    yield b"M" + _enc_str(obj.__name__)


@bytes_repr.register(types.FunctionType)
def _function_repr(obj: types.FunctionType) -> Iterator[bytes]:
    yield b"F" + hash_function(obj)


@bytes_repr.register(types.BuiltinFunctionType)
@bytes_repr.register(types.WrapperDescriptorType)
@bytes_repr.register(types.MethodDescriptorType)
@bytes_repr.register(types.ClassMethodDescriptorType)
@bytes_repr.register(types.MethodWrapperType)
def _builtin_function_repr(obj: Any) -> Iterator[bytes]:
    owner = getattr(obj, "__self__", None)
    module = getattr(obj, "__module__", None)
    if module is None:
        module = getattr(getattr(obj, "__objclass__", None), "__module__", None)
    if module is None and isinstance(owner, types.ModuleType):
        module = owner.__name__
    yield b"b" + _enc_str(f"{module}.{getattr(obj, '__qualname__', obj.__name__)}")
    if owner is not None and not isinstance(owner, (types.ModuleType, type)):
        yield from bytes_repr(owner)  # a bound built-in method: its object matters


@bytes_repr.register(types.MethodType)
def _method_repr(obj: types.MethodType) -> Iterator[bytes]:
    yield b"m"
    yield from bytes_repr(obj.__func__)
    yield from bytes_repr(obj.__self__)


@bytes_repr.register(functools.partial)
def _partial_repr(obj: functools.partial[Any]) -> Iterator[bytes]:
    yield b"p" + type_ident(type(obj))
    yield from bytes_repr(obj.func)
    yield from bytes_repr(obj.args)
    yield from bytes_repr(obj.keywords)


@bytes_repr.register(types.GenericAlias)
@bytes_repr.register(types.UnionType)
def _generic_alias_repr(obj: Any) -> Iterator[bytes]:
    import typing

    yield b"G" + type_ident(type(obj))
    yield from bytes_repr(typing.get_origin(obj))
    yield from bytes_repr(typing.get_args(obj))


@bytes_repr.register(logging.Logger)
def _logger_repr(obj: logging.Logger) -> Iterator[bytes]:
    # Loggers are read as globals by many functions; they never change a result.
    yield b"l" + _enc_str(obj.name)


def _attrs_repr(obj: Any) -> Iterator[bytes]:
    cls = type(obj)
    yield b"A" + type_ident(cls)
    for field in cls.__attrs_attrs__:
        if not field.eq:
            continue  # excluded from equality: a cache or a handle, not a value
        yield _enc_str(field.name)
        yield from bytes_repr(getattr(obj, field.name))


def _dataclass_repr(obj: Any) -> Iterator[bytes]:
    import dataclasses

    cls = type(obj)
    yield b"K" + type_ident(cls)
    for field in dataclasses.fields(obj):
        if not field.compare:
            continue
        yield _enc_str(field.name)
        yield from bytes_repr(getattr(obj, field.name))


# --------------------------------------------------------------------------
# Lazily registered handlers: numpy and fileformats are never imported here;
# their objects can only exist once their package has been imported.
# --------------------------------------------------------------------------

_lazy_lock = threading.Lock()
_lazy_done: set[str] = set()


def _register_lazy_handlers() -> bool:
    """Register handlers of packages imported since the last call; True if any."""
    new = False
    if "numpy" not in _lazy_done and "numpy" in sys.modules:
        with _lazy_lock:
            if "numpy" not in _lazy_done:
                _register_numpy()
                _lazy_done.add("numpy")
                new = True
    if "fileformats" not in _lazy_done and "fileformats.core" in sys.modules:
        with _lazy_lock:
            if "fileformats" not in _lazy_done:
                _register_fileformats()
                _lazy_done.add("fileformats")
                new = True
    return new


def _register_numpy() -> None:
    import numpy as np

    def dtype_repr(dtype: Any) -> Iterator[bytes]:
        if dtype.fields is None and dtype.subdtype is None:
            yield _enc_str(dtype.str)
        else:  # structured or sub-array dtype: the full description
            yield from bytes_repr(dtype.descr)

    @bytes_repr.register(np.ndarray)
    def _ndarray_repr(obj: Any) -> Iterator[bytes]:
        if type(obj) is not np.ndarray:
            yield b"X" + type_ident(type(obj))
        yield b"nd"
        yield from dtype_repr(obj.dtype)
        yield _pack_Q(obj.ndim) + b"".join(_pack_Q(n) for n in obj.shape)
        if obj.dtype.hasobject:
            yield from bytes_repr(obj.tolist())
            return
        data = np.ascontiguousarray(obj).reshape(-1).view(np.uint8)
        yield _pack_Q(data.nbytes)
        yield memoryview(data) if data.nbytes else b""  # type: ignore[misc]

    @bytes_repr.register(np.generic)
    def _numpy_scalar_repr(obj: Any) -> Iterator[bytes]:
        yield b"ns"
        yield from dtype_repr(obj.dtype)
        if obj.dtype.hasobject:
            yield from bytes_repr(obj.item())
        else:
            yield obj.tobytes()

    @bytes_repr.register(np.dtype)
    def _dtype_repr(obj: Any) -> Iterator[bytes]:
        yield b"dt"
        yield from dtype_repr(obj)


def _register_fileformats() -> None:
    from fileformats.core import FileSet

    bytes_repr.register(FileSet, _fileset_repr)


def _fileset_repr(obj: Any) -> Iterator[bytes]:
    """A file set by content: relative names and file digests, not its location."""
    from plait.filehash import default_file_hash_cache

    cls = type(obj)
    yield b"FS" + type_ident(cls)
    for classifier in getattr(cls, "classifiers", None) or ():
        if isinstance(classifier, type):
            yield type_ident(classifier)
    cache = default_file_hash_cache()
    entries = _fileset_entries(obj)
    yield _pack_Q(len(entries))
    for key, path in entries:
        yield _enc_str(key) + cache.hash_file(path)


def _fileset_entries(obj: Any) -> list[tuple[str, str]]:
    """(relative key, absolute path) of every file of a file set, sorted by key.

    A single file has the key ``""`` (its name does not matter); files of a
    multi-file set in one directory are keyed by what follows their common
    stem (``x.hdr``/``x.img`` -> ``.hdr``/``.img``); files inside a directory
    by their path relative to it; anything else relative to the common parent.
    """
    fspaths = [os.path.abspath(p) for p in obj.fspaths]
    files = [os.path.abspath(p) for p in obj.all_file_paths()]
    if len(fspaths) == 1:
        top = fspaths[0]
        if os.path.isdir(top):
            return sorted((_rel_key(f, top), f) for f in files)
        return [("", f) for f in files]
    if all(os.path.isfile(p) for p in fspaths) and len({os.path.dirname(p) for p in fspaths}) == 1:
        names = [os.path.basename(p) for p in files]
        stem = os.path.commonprefix(names).rstrip(".")  # noqa: RUF071 - a common file stem
        return sorted((n[len(stem) :], f) for n, f in zip(names, files))
    base = os.path.commonpath(fspaths)
    return sorted((_rel_key(f, base), f) for f in files)


def _rel_key(path: str, base: str) -> str:
    return os.path.relpath(path, base).replace(os.sep, "/")


# --------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------

_STDLIB_DIR = os.path.dirname(os.__file__)
_code_cache: weakref.WeakKeyDictionary[types.CodeType, tuple[bytes, tuple[str, ...]]]
_code_cache = weakref.WeakKeyDictionary()
_in_progress = threading.local()


def _is_user_function(func: Any) -> bool:
    """True for functions of the user's code (not stdlib, not site-packages)."""
    module = getattr(func, "__module__", None) or ""
    if module.partition(".")[0] in sys.stdlib_module_names or module == "builtins":
        return False
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    filename: str = code.co_filename
    if filename.startswith("<"):
        return True  # exec'd code, a REPL or a notebook cell
    parts = filename.replace("\\", "/").split("/")
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not filename.startswith(_STDLIB_DIR + os.sep)


def _function_ident(func: Any) -> bytes:
    return _enc_str(f"{func.__module__}.{func.__qualname__}")


def hash_function(func: Callable[..., Any]) -> bytes:
    """16-byte identity of a Python function that changes whenever its behaviour can.

    It covers the module and qualified name; the code, as the syntax tree of
    its source without docstrings, comments, positions or its own decorators
    (the same on Python 3.11-3.13), or as bytecode when the source cannot be
    found or no longer matches the running code (``exec``, a REPL, a file
    edited since import: then the identity differs between Python versions);
    default values; the values
    of the globals the function and its nested code read (looked up in
    ``func.__globals__``); and the values of its closure cells. Modules hash
    as their name; functions of the user's code are hashed the same way,
    recursively (cycles are cut); functions and classes of the standard
    library and of installed packages hash as module + qualified name. Line
    numbers, file names and addresses are not included, so the identity is
    stable across processes and ``PYTHONHASHSEED`` values.

    A function that is not the user's code (stdlib, site-packages, a builtin)
    is identified by module + qualified name only. Raises ``TypeError`` naming
    the function and the global when a value it reads cannot be hashed.

    >>> def f(x): return x + 1
    >>> len(hash_function(f))
    16
    """
    if isinstance(func, types.MethodType):
        func = func.__func__
    if not isinstance(func, types.FunctionType) or not _is_user_function(func):
        if isinstance(func, types.FunctionType) or hasattr(func, "__qualname__"):
            return blake3(b"lib" + _function_ident(func)).digest(_DIGEST_LEN)
        raise TypeError(f"hash_function expects a function, not {type(func)!r}")
    stack: dict[int, None] | None = getattr(_in_progress, "stack", None)
    if stack is None:
        stack = _in_progress.stack = {}
    if id(func) in stack:
        # recursion (f calls g calls f): name the function instead of looping
        return blake3(b"cycle" + _function_ident(func)).digest(_DIGEST_LEN)
    stack[id(func)] = None
    try:
        return _hash_user_function(func)
    finally:
        del stack[id(func)]


def _hash_user_function(func: types.FunctionType) -> bytes:
    name = f"{func.__module__}.{func.__qualname__}"
    code_digest, global_names = _code_info(func)
    h = blake3()
    buf = bytearray(b"fn" + _enc_str(name) + code_digest)

    def feed(what: str, value: object) -> None:
        try:
            _feed(value, buf, h)
        except TypeError as exc:
            raise TypeError(f"cannot hash {what} read by function {name}: {exc}") from exc

    feed("its defaults", func.__defaults__)
    feed("its keyword defaults", func.__kwdefaults__)
    func_globals = func.__globals__
    builtins_ns = func_globals.get("__builtins__", None)
    if isinstance(builtins_ns, types.ModuleType):
        builtins_ns = vars(builtins_ns)
    for gname in global_names:
        buf += _enc_str(gname)
        if gname in func_globals:
            feed(f"global {gname!r}", func_globals[gname])
        elif builtins_ns is not None and gname in builtins_ns:
            buf += b"<builtin>"
        else:
            buf += b"<undefined>"
    cells = func.__closure__ or ()
    for cname, cell in zip(func.__code__.co_freevars, cells):
        buf += _enc_str(cname)
        try:
            value = cell.cell_contents
        except ValueError:
            buf += b"<empty cell>"
            continue
        feed(f"closure variable {cname!r}", value)
    h.update(buf)
    return h.digest(_DIGEST_LEN)


def _code_info(func: types.FunctionType) -> tuple[bytes, tuple[str, ...]]:
    """Digest of a function's code and the sorted global names it (and nested code) reads.

    The digest is of the function's source as a syntax tree (docstrings
    removed, see :func:`_source_digest`) when the source can be found and
    still compiles to the running code; otherwise of its bytecode, which
    differs between Python versions. The global names come from the code's
    ``LOAD_GLOBAL``/``LOAD_NAME`` instructions: Python's own scoping, and the
    same names on every version.
    """
    code = func.__code__
    cached = _code_cache.get(code)
    if cached is None:
        names: set[str] = set()
        bytecode = _code_digest(code, names)
        digest = _source_digest(func, bytecode) or b"bytecode" + bytecode
        cached = (digest, tuple(sorted(names)))
        _code_cache[code] = cached
    return cached


_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})


def _code_digest(code: types.CodeType, global_names: set[str]) -> bytes:
    import dis

    for instr in dis.get_instructions(code):
        if instr.opname in _GLOBAL_LOADS:
            global_names.add(instr.argval)
    h = blake3()
    buf = bytearray(b"code")
    for value in (
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
    ):
        buf += _enc_int(value)
    buf += _enc_bytes(code.co_code)
    buf += _enc_bytes(getattr(code, "co_exceptiontable", b""))
    for names in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        _feed(names, buf, h)
    buf += _pack_Q(len(code.co_consts))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            buf += b"code" + _code_digest(const, global_names)
        else:
            _feed(const, buf, h)
    h.update(buf)
    return h.digest(_DIGEST_LEN)


# --------------------------------------------------------------------------
# Function identity from source: the same on every Python version
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _module_source(filename: str, text: str) -> _SourceIndex | None:
    """The syntax tree and compiled code of one source file, indexed by definition line."""
    try:
        tree = ast.parse(text, filename)
        module = compile(tree, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    nodes: dict[tuple[int, str], list[Any]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            nodes.setdefault((first, node.name), []).append(node)
        elif isinstance(node, ast.Lambda):
            nodes.setdefault((node.lineno, "<lambda>"), []).append(node)
    codes: dict[tuple[int, str], list[types.CodeType]] = {}
    stack = [module]
    while stack:
        for const in stack.pop().co_consts:
            if isinstance(const, types.CodeType):
                codes.setdefault((const.co_firstlineno, const.co_qualname), []).append(const)
                stack.append(const)
    return _SourceIndex(nodes, codes)


class _SourceIndex:
    """Definitions of one source file: syntax nodes by (first line, name), code by
    (first line, qualified name)."""

    def __init__(
        self,
        nodes: dict[tuple[int, str], list[Any]],
        codes: dict[tuple[int, str], list[types.CodeType]],
    ) -> None:
        self.nodes = nodes
        self.codes = codes


def _source_digest(func: types.FunctionType, bytecode: bytes) -> bytes | None:
    """Digest of the function's normalised syntax tree, or None when it cannot be trusted.

    The function's file is read through :mod:`linecache` (so notebook cells
    work too), parsed and compiled whole (the compiler's choices depend on
    the module, e.g. on which names are imports); the function's syntax tree
    is used only if the code compiled from it has the same bytecode digest as
    the running function. Code made by ``exec`` or typed in a REPL, a file
    edited since it was imported, and two lambdas on one line fall back to
    the bytecode digest, which differs between Python versions.
    """
    code = func.__code__
    filename = code.co_filename
    linecache.checkcache(filename)
    text = "".join(linecache.getlines(filename, func.__globals__))
    index = _module_source(filename, text) if text else None
    if index is None:
        return None
    nodes = index.nodes.get((code.co_firstlineno, code.co_name), [])
    compiled = index.codes.get((code.co_firstlineno, code.co_qualname), [])
    if len(nodes) != 1 or len(compiled) != 1 or _code_digest(compiled[0], set()) != bytecode:
        return None
    buf = bytearray(b"ast")
    _ast_bytes(nodes[0], buf, top=True)
    return blake3(buf).digest(_DIGEST_LEN)


def _ast_bytes(node: Any, buf: bytearray, top: bool = False) -> None:
    """A syntax tree as bytes, the same on Python 3.11-3.13.

    Node type names and field names, no positions; fields that are None or
    empty are left out, so fields that newer versions add with an empty
    default (``type_params`` in 3.12) do not change the bytes. Docstrings of
    functions and classes are left out, and so are the decorators of the
    top node (``@python.define(...)`` is not the function's behaviour).
    """
    if isinstance(node, ast.AST):
        buf += b"("
        buf += _enc_str(type(node).__name__)
        for field in node._fields:
            value: Any = getattr(node, field, None)
            if field == "body" and isinstance(node, _DOC_OWNERS) and _has_docstring(value):
                value = value[1:]
            elif field == "values" and isinstance(node, ast.JoinedStr):
                value = _fstring_parts(value)
            if value is None or (isinstance(value, list) and not value):
                continue
            if field == "type_comment" or (top and field == "decorator_list"):
                continue
            buf += _enc_str(field)
            _ast_bytes(value, buf)
        buf += b")"
    elif isinstance(node, list):
        buf += b"[" + _pack_Q(len(node))
        for item in node:
            _ast_bytes(item, buf)
    else:  # constants and identifiers
        buf += _encode(node)


def _fstring_parts(values: list[Any]) -> list[Any]:
    """The parts of an f-string with empty literals dropped and adjacent ones joined
    (3.12.1 adds an empty literal at the end of some format specs)."""
    parts: list[Any] = []
    for part in values:
        text = part.value if isinstance(part, ast.Constant) else None
        if isinstance(text, str):
            if not text:
                continue
            if parts and isinstance(parts[-1], ast.Constant):
                parts[-1] = ast.Constant(str(parts[-1].value) + text)
                continue
        parts.append(part)
    return parts


_DOC_OWNERS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _has_docstring(body: list[Any]) -> bool:
    return (
        bool(body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
