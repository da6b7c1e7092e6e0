"""The result file format: a header, a digest of the payload, and a payload that is
plain data (msgpack, no code runs when it is read) or an authenticated pickle.

Layout (all integers little-endian), after an optional first line naming
the process that wrote it (a JSON object and a newline: the lock's owner line,
see :mod:`plait.locks`)::

    magic    8 bytes   b"PLAITRS\\x02"
    codec    1 byte    0: data (msgpack), 1: pickle
    key id   8 bytes   the key whose MAC follows (zeros for data)
    meta     8 bytes   length of the metadata block
    payload  8 bytes   length of metadata + outputs
    digest  16 bytes   BLAKE3 of (job name, header, payload): integrity
    mac     32 bytes   keyed BLAKE3 of the same with the writer's key (zeros for data)
    payload            msgpack [wall, cpu, peak_rss, files], then the outputs

The job name (``python-<checksum>``) is part of the digest, so a result copied
from another job directory is detected. ``files`` lists the files the outputs
refer to (path, size, mtime, and a content digest when small); they are
checked before a result is served.

Plain data: None, bool, int, float, complex, str, bytes, lists, tuples, sets,
dicts of those, ``pathlib`` paths, numpy arrays and scalars (``.npy`` bytes,
``allow_pickle=False``) and fileformats file sets (format name and paths).
Anything else is pickled (cloudpickle when plain pickle cannot) and loaded only
when its MAC verifies with a key this user holds (:mod:`plait.trust`).
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import threading
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any, NamedTuple

import msgpack
from blake3 import blake3

from .trust import reader_keys, trusts_all, writer_key

__all__ = ["Decoded", "RejectedResult", "decode", "encode"]

MAGIC = b"PLAITRS\x02"
CODEC_DATA = 0
CODEC_PICKLE = 1
_HEAD = struct.Struct("<8sB8sQQ")
_DIGEST = 16
_MAC = 32
_PREFIX = _HEAD.size + _DIGEST + _MAC
_NO_KEY = bytes(8)
_NO_MAC = bytes(_MAC)
#: output files up to this size get a content digest, checked when their mtime changed
SMALL_FILE = 1 << 20

# msgpack extension codes
_TUPLE, _SET, _FROZENSET, _PATH, _NDARRAY, _NPSCALAR, _FILESET, _COMPLEX, _BIGINT = range(1, 10)


class RejectedResult(Exception):
    """A result file that must not be served.

    ``quarantine``: it is damaged or forged (moved aside and recomputed);
    otherwise it is only not trusted here (left in place, recomputed).
    """

    def __init__(self, message: str, quarantine: bool = True) -> None:
        super().__init__(message)
        self.quarantine = quarantine


class Decoded(NamedTuple):
    """The content of a result file."""

    outputs: Any
    wall: float
    cpu: float
    peak_rss: int


# ---------------------------------------------------------------------------- encode


def encode(outputs: Any, wall: float, cpu: float, peak_rss: int, job_dir: str) -> list[bytes]:
    """The parts of the result file of the job in ``job_dir``, to be written in order.

    Plain data is stored as msgpack; anything else is pickled and signed with
    the cache root's key. Raises if the outputs cannot be stored at all.
    """
    files: list[list[Any]] = []
    if type(outputs) is dict and all(type(v) in _SCALARS for v in outputs.values()):
        plain = True  # the common case: a few scalars, no files
    else:
        plain = _scan(outputs, files, job_dir)
    outputs_bytes: bytes | None = None
    packer = _packer()
    if plain:
        try:
            outputs_bytes = packer.pack(outputs)
        except (TypeError, ValueError, OverflowError):
            packer.reset()
            outputs_bytes = None
    codec = CODEC_DATA
    if outputs_bytes is None:
        codec = CODEC_PICKLE
        outputs_bytes = _pickle(outputs)
    meta = packer.pack([wall, cpu, peak_rss, files])
    size = len(meta) + len(outputs_bytes)
    root, _, base = job_dir.rpartition("/")
    name = base.encode()
    if codec == CODEC_PICKLE:
        kid, key = writer_key(root)
    else:
        kid, key = _NO_KEY, b""
    head = _HEAD.pack(MAGIC, codec, kid, len(meta), size)
    if size < _SMALL:
        digest = blake3(b"%s\0%s%s%s" % (name, head, meta, outputs_bytes)).digest(_DIGEST)
    else:
        h = _hasher(None, name, head)
        h.update(meta)
        h.update(outputs_bytes)
        digest = h.digest(_DIGEST)
    mac = _NO_MAC
    if codec == CODEC_PICKLE:
        h = _hasher(key, name, head)
        h.update(meta)
        h.update(outputs_bytes)
        mac = h.digest(_MAC)
    return [head + digest + mac, meta, outputs_bytes]


_local = threading.local()
_SMALL = 1 << 14


def _packer() -> Any:
    """This thread's msgpack packer (made once: making one per call costs more than packing)."""
    packer = getattr(_local, "packer", None)
    if packer is None:
        packer = _local.packer = msgpack.Packer(
            default=_default, use_bin_type=True, strict_types=True
        )
    return packer


def _hasher(key: bytes | None, name: bytes, head: bytes) -> Any:
    h = blake3(key=key) if key else blake3()
    h.update(name + b"\0" + head)
    return h


def _pickle(outputs: Any) -> bytes:
    try:
        return pickle.dumps(outputs, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        import cloudpickle

        return cloudpickle.dumps(outputs, protocol=pickle.HIGHEST_PROTOCOL)


_SCALARS = frozenset({type(None), bool, int, float, str, bytes, complex})


def _scan(value: Any, files: list[list[Any]], job_dir: str) -> bool:
    """Collect the files ``value`` refers to; False if it holds a type msgpack would change.

    (msgpack stores a ``bytearray`` as ``bytes``: such results are pickled.)
    """
    tp = type(value)
    if tp in _SCALARS:
        return True
    if tp is dict:
        ok = True
        for k, v in value.items():
            ok = _scan(k, files, job_dir) and _scan(v, files, job_dir) and ok
        return ok
    if tp is list or tp is tuple or tp is set or tp is frozenset:
        ok = True
        for v in value:
            ok = _scan(v, files, job_dir) and ok
        return ok
    if tp is bytearray:
        return False
    if isinstance(value, PurePath):
        if isinstance(value, Path) and value.is_absolute() and str(value).startswith(job_dir):
            _add_file(files, os.fspath(value))
        return True
    fspaths = getattr(value, "fspaths", None)
    if fspaths is not None and _is_fileset(value):
        for p in sorted(fspaths):
            _add_file(files, os.fspath(p))
    return True


def _add_file(files: list[list[Any]], path: str) -> None:
    try:
        st = os.stat(path)
    except OSError:
        return  # not there when stored: nothing to check later
    digest = None
    if st.st_size <= SMALL_FILE and os.path.isfile(path):
        from .filehash import hash_file_content

        digest = hash_file_content(path)
    size = st.st_size if os.path.isfile(path) else -1
    files.append([path, size, st.st_mtime_ns, digest])


def _is_fileset(value: Any) -> bool:
    mod = type(value).__module__
    if not mod.startswith("fileformats"):
        # a user subclass of a fileformats class
        return any(c.__module__.startswith("fileformats.") for c in type(value).__mro__[1:])
    return True


def _default(obj: Any) -> Any:
    tp = type(obj)
    if tp is tuple:
        return msgpack.ExtType(_TUPLE, _pack(list(obj)))
    if tp is set or tp is frozenset:
        return msgpack.ExtType(_SET if tp is set else _FROZENSET, _pack(list(obj)))
    if tp is complex:
        return msgpack.ExtType(_COMPLEX, struct.pack("<dd", obj.real, obj.imag))
    if tp is int:  # beyond 64 bits
        return msgpack.ExtType(_BIGINT, str(obj).encode())
    if isinstance(obj, Path) and tp is type(Path()):
        return msgpack.ExtType(_PATH, os.fsencode(obj))
    module = tp.__module__
    if module == "numpy":
        import numpy as np

        if isinstance(obj, np.ndarray) and tp is np.ndarray:
            return msgpack.ExtType(_NDARRAY, _npy(obj))
        if isinstance(obj, np.generic):
            return msgpack.ExtType(_NPSCALAR, _npy(np.asarray(obj)))
    if _is_fileset(obj):
        from fileformats.core import from_mime, to_mime

        mime = to_mime(tp, official=False)
        if from_mime(mime) is not tp:
            raise TypeError(f"{tp} has no fileformats name")
        paths = sorted(os.fsencode(p) for p in obj.fspaths)
        return msgpack.ExtType(_FILESET, _pack([mime, paths]))
    raise TypeError(f"not plain data: {tp}")


def _pack(value: Any) -> bytes:
    # a packer of its own: this runs inside the thread's packer's default hook
    return msgpack.packb(value, default=_default, use_bin_type=True, strict_types=True)


def _npy(arr: Any) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


# ---------------------------------------------------------------------------- decode


def decode(data: bytes, job_dir: str, trusted_root: str | None = None) -> Decoded:
    """The result stored in ``data`` (the file of the job in ``job_dir``).

    ``trusted_root`` is the cache root whose keys authenticate a pickle
    (default: the one holding ``job_dir``). Raises
    :class:`RejectedResult` for a damaged, foreign, forged or untrusted file,
    and when a file the result refers to is missing or changed.
    """
    off = 0
    if data[:1] == b"{":  # written by a lock owner: its owner line comes first
        off = data.find(b"\n", 0, 4096) + 1
        if not off:
            raise RejectedResult("not a plait result file (unknown format)")
    if len(data) - off < _PREFIX:
        raise RejectedResult(f"truncated ({len(data)} bytes)")
    magic, codec, kid, meta_len, payload_len = _HEAD.unpack_from(data, off)
    if magic != MAGIC:
        raise RejectedResult("not a plait result file (unknown format)")
    if len(data) - off != _PREFIX + payload_len:
        raise RejectedResult(
            f"truncated or padded ({len(data) - off} bytes, expected {_PREFIX + payload_len})"
        )
    head = data[off : off + _HEAD.size]
    digest = data[off + _HEAD.size : off + _HEAD.size + _DIGEST]
    name = job_dir.rpartition("/")[2].encode()
    view = memoryview(data)[off:]
    payload = view[_PREFIX:]
    if payload_len < _SMALL:
        check = blake3(b"%s\0%s%s" % (name, head, payload)).digest(_DIGEST)
    else:
        h = _hasher(None, name, head)
        h.update(payload)
        check = h.digest(_DIGEST)
    if check != digest:
        raise RejectedResult("digest mismatch (damaged, or copied from another job)")
    if codec == CODEC_PICKLE:
        _authenticate(view, name, head, kid, trusted_root or os.path.dirname(job_dir))
    elif codec != CODEC_DATA:
        raise RejectedResult(f"unknown codec {codec}")
    try:
        wall, cpu, peak_rss, files = msgpack.unpackb(payload[:meta_len])
    except Exception as exc:
        raise RejectedResult(f"unreadable metadata: {exc}") from None
    if files:
        for path, size, mtime_ns, file_digest in files:
            _check_file(path, size, mtime_ns, file_digest)
    body = payload[meta_len:]
    try:
        if codec == CODEC_PICKLE:
            outputs = pickle.loads(body)
        else:
            outputs = _unpack(body)
    except RejectedResult:
        raise
    except Exception as exc:
        raise RejectedResult(f"unreadable outputs: {type(exc).__name__}: {exc}") from None
    return Decoded(outputs, wall, cpu, peak_rss)


def _authenticate(view: memoryview, name: bytes, head: bytes, kid: bytes, root: str) -> None:
    if trusts_all(root):
        return
    key = reader_keys(root).get(kid)
    if key is None:
        key = reader_keys(root, refresh=True).get(kid)  # a key made after the first look
    if key is None:
        raise RejectedResult(
            "pickled result signed with a key this user does not hold (another user's "
            "cache, or planted): not loaded; see plait.trust.trust_cache",
            quarantine=False,
        )
    h = _hasher(key, name, head)
    h.update(view[_PREFIX:])
    if h.digest(_MAC) != bytes(view[_HEAD.size + _DIGEST : _PREFIX]):
        raise RejectedResult("pickled result fails authentication (forged): not loaded")


def _check_file(path: str, size: int, mtime_ns: int, digest: bytes | None) -> None:
    try:
        st = os.stat(path)
    except OSError:
        raise RejectedResult(f"output file {path} is missing") from None
    if size < 0:
        return  # a directory: it exists
    if st.st_size != size:
        raise RejectedResult(f"output file {path} changed size ({size} -> {st.st_size} bytes)")
    if st.st_mtime_ns != mtime_ns and digest is not None:
        from .filehash import hash_file_content

        try:
            now = hash_file_content(path)
        except OSError as exc:
            raise RejectedResult(f"output file {path} cannot be read: {exc}") from None
        if now != digest:
            raise RejectedResult(f"output file {path} changed content")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _TUPLE:
        return tuple(_unpack(data))
    if code == _SET:
        return set(_unpack(data))
    if code == _FROZENSET:
        return frozenset(_unpack(data))
    if code == _COMPLEX:
        re, im = struct.unpack("<dd", data)
        return complex(re, im)
    if code == _BIGINT:
        return int(data.decode())
    if code == _PATH:
        return Path(os.fsdecode(data))
    if code in (_NDARRAY, _NPSCALAR):
        import numpy as np

        arr = np.load(io.BytesIO(data), allow_pickle=False)
        return arr[()] if code == _NPSCALAR else arr
    if code == _FILESET:
        from fileformats.core import FileSet, from_mime

        mime, paths = _unpack(data)
        cls = from_mime(mime)
        if not (isinstance(cls, type) and issubclass(cls, FileSet)):
            raise RejectedResult(f"{mime!r} is not a file format")
        return cls([os.fsdecode(p) for p in paths])
    raise RejectedResult(f"unknown msgpack extension {code}")


_unpack: Callable[[Any], Any] = lambda data: msgpack.unpackb(  # noqa: E731
    data, ext_hook=_ext_hook, raw=False, strict_map_key=False, use_list=True
)
