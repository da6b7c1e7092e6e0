"""A persistent cache of file content hashes, safe with many writers and on NFS.

An unchanged file is read once, ever: its BLAKE3 digest is stored under a key
of (absolute path, size, mtime in ns, ctime in ns, inode). Any change to the
file changes one of these and so misses the cache; ctime catches an in-place
edit whose mtime was put back (``touch -d``, ``cp -p``), since no user can set
a file's ctime::

    >>> from plait.filehash import FileHashCache
    >>> cache = FileHashCache(tmp_dir)                      # doctest: +SKIP
    >>> digest = cache.hash_file("big.nii.gz")              # reads the file
    >>> digest == cache.hash_file("big.nii.gz")             # doctest: +SKIP
    True

Each key has its own small entry file, named by a hash of the key, written to
a unique temporary name and renamed into place with ``os.replace`` (atomic on
POSIX file systems, NFS included). Concurrent writers of one key write the
same bytes, so whichever rename wins is right; a reader sees a whole entry or
none. An entry carries its key and a checksum: a partial, corrupt or foreign
entry is ignored and rewritten. There is no sqlite and no file lock, both of
which are unreliable over NFS.

:func:`plait.hashing.hash_object` uses the process-wide cache returned by
:func:`default_file_hash_cache`; change it with :func:`set_file_hash_cache`.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import uuid
from pathlib import Path

from blake3 import blake3

logger = logging.getLogger(__name__)

__all__ = [
    "FILE_HASH_CACHE_ENV",
    "FileHashCache",
    "default_file_hash_cache",
    "hash_file_content",
    "set_file_hash_cache",
]

#: Environment variable naming the directory of the default file-hash cache.
FILE_HASH_CACHE_ENV = "PLAIT_FILE_HASH_CACHE"

# Read buffer: 1 MiB measured as fast as 4-16 MiB and as blake3's update_mmap
# (which could also SIGBUS if a file on NFS is truncated while mapped).
_READ_SIZE = 1 << 20
_MAGIC = b"plait-filehash\x02"  # \x02: the key has the ctime
_DIGEST_SIZE = 32
_CHECK_SIZE = 16
# A file modified this recently may be modified again within the same mtime
# tick, leaving (size, mtime, inode) unchanged: such digests are not stored.
_RACY_NS = 50_000_000  # 50 ms: timestamps with ns precision
_RACY_COARSE_NS = 2_000_000_000  # 2 s: whole-second timestamps (HFS+, FAT, old NFS)


def hash_file_content(path: str | os.PathLike[str]) -> bytes:
    """32-byte BLAKE3 digest of a file's bytes, streamed in 1 MiB reads (no cache)."""
    h = blake3()
    buf = bytearray(_READ_SIZE)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.digest(_DIGEST_SIZE)


class FileHashCache:
    """Persistent file content hashes under ``root``, keyed by (path, size, mtime, ctime, inode).

    ``hash_file(path)`` returns the 32-byte BLAKE3 digest of the file, read
    from the cache when the file is unchanged and otherwise read from the file
    and stored. ``files_read`` counts the files this object actually read.
    Several processes (and hosts, on a shared file system) may use one root at
    once; a failure to write an entry is logged and otherwise ignored.

    >>> cache = FileHashCache(Path("/tmp/plait-file-hashes"))  # doctest: +SKIP
    >>> cache.hash_file("data.csv").hex()                       # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root: Path = Path(root).absolute()
        #: Number of files whose content this object read (cache misses).
        self.files_read: int = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileHashCache({str(self.root)!r})"

    def __getstate__(self) -> dict[str, object]:
        return {"root": self.root, "files_read": self.files_read}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["root"])  # type: ignore[misc,arg-type]

    def hash_file(self, path: str | os.PathLike[str]) -> bytes:
        """32-byte BLAKE3 digest of the content of the file at ``path``.

        Raises ``FileNotFoundError`` if it does not exist and
        ``IsADirectoryError`` if it is not a regular file.
        """
        fspath = os.path.abspath(path)
        st = os.stat(fspath)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(f"not a regular file, cannot hash its content: {path}")
        key = _key(fspath, st)
        entry = self._entry_path(key)
        digest = _read_entry(entry, key)
        if digest is not None:
            return digest
        started_ns = time.time_ns()
        digest = hash_file_content(fspath)
        with self._lock:
            self.files_read += 1
        after = os.stat(fspath)
        if _key(fspath, after) != key:
            logger.debug("%s changed while it was hashed: digest not cached", fspath)
        elif _is_racy(st.st_mtime_ns, started_ns):
            logger.debug("%s was modified just now: digest not cached", fspath)
        else:
            self._write_entry(entry, key, digest)
        return digest

    def _entry_path(self, key: bytes) -> Path:
        name = blake3(key).hexdigest(20)
        return self.root / name[:2] / name[2:]

    def _write_entry(self, entry: Path, key: bytes, digest: bytes) -> None:
        body = _MAGIC + len(key).to_bytes(4, "little") + key + digest
        data = body + blake3(body).digest(_CHECK_SIZE)
        tmp = entry.with_name(f".{entry.name}.{uuid.uuid4().hex}.tmp")
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, entry)
        except OSError as exc:
            logger.warning("cannot write file-hash cache entry %s: %s", entry, exc)
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _key(fspath: str, st: os.stat_result) -> bytes:
    return b"\0".join(
        (
            os.fsencode(fspath),
            b"%d" % st.st_size,
            b"%d" % st.st_mtime_ns,
            b"%d" % st.st_ctime_ns,
            b"%d" % st.st_ino,
        )
    )


def _is_racy(mtime_ns: int, now_ns: int) -> bool:
    window = _RACY_COARSE_NS if mtime_ns % 1_000_000_000 == 0 else _RACY_NS
    return mtime_ns >= now_ns - window


def _read_entry(entry: Path, key: bytes) -> bytes | None:
    """The digest stored in ``entry`` for ``key``; None if absent, partial or corrupt."""
    try:
        with open(entry, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.debug("cannot read file-hash cache entry %s: %s", entry, exc)
        return None
    expected_len = len(_MAGIC) + 4 + len(key) + _DIGEST_SIZE + _CHECK_SIZE
    body, check = data[:-_CHECK_SIZE], data[-_CHECK_SIZE:]
    if (
        len(data) != expected_len
        or not data.startswith(_MAGIC)
        or blake3(body).digest(_CHECK_SIZE) != check
    ):
        logger.debug("ignoring corrupt file-hash cache entry %s", entry)
        return None
    offset = len(_MAGIC) + 4
    if body[offset : offset + len(key)] != key:
        return None  # another key with the same entry name (never in practice)
    return body[offset + len(key) :]


_default_lock = threading.Lock()
_current: FileHashCache | None = None


def default_file_hash_cache() -> FileHashCache:
    """The process-wide file-hash cache used by :func:`plait.hashing.hash_object`.

    The one given to :func:`set_file_hash_cache`, else one at
    ``$PLAIT_FILE_HASH_CACHE`` or ``platformdirs.user_cache_dir("plait")/file-hashes``.
    """
    global _current
    cache = _current
    if cache is None:
        with _default_lock:
            if _current is None:
                root = os.environ.get(FILE_HASH_CACHE_ENV)
                if not root:
                    import platformdirs

                    root = os.path.join(platformdirs.user_cache_dir("plait"), "file-hashes")
                _current = FileHashCache(root)
            cache = _current
    return cache


def set_file_hash_cache(cache: FileHashCache | None) -> FileHashCache | None:
    """Make ``cache`` the process-wide file-hash cache; None restores the default.

    Returns the cache that was set before (None if the default was not made
    yet), so a caller can restore it.
    """
    global _current
    with _default_lock:
        previous, _current = _current, cache
    return previous
