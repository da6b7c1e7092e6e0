"""Which pickled results may be loaded: secret keys per cache root, and explicit trust.

Results of plain data are stored in a format that cannot run code when read
(:mod:`plait.resultfile`). Other results are pickled, and a pickle runs code
when it is loaded, so a pickled result is only loaded when it is authenticated
with a key this user holds (a keyed BLAKE3 MAC):

- every cache root has a secret key, ``<cache_root>/.plait-key`` (32 random
  bytes, mode 0600), made by the first process that writes a pickled result
  there. It is used only if it is owned by this user and readable by no one
  else; otherwise (a cache root made by another user) this user's own key,
  ``<user config dir>/plait/key``, signs and verifies instead;
- another user's cache (a ``readonly_caches`` entry) is trusted only
  explicitly: :func:`trust_cache` with its key (bytes or the path of its key
  file), or with ``key=None`` to load its pickles without authentication
  (logged as a warning), or ``$PLAIT_TRUSTED_CACHES`` (roots separated by
  ``os.pathsep``, the same as ``key=None``), which reaches worker processes too.

Example::

    from plait.trust import trust_cache
    trust_cache("/shared/lab-cache", key="/shared/keys/lab-cache.key")
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
from pathlib import Path

from blake3 import blake3

__all__ = ["KEY_FILE", "key_id", "reader_keys", "trust_cache", "trusts_all", "writer_key"]

logger = logging.getLogger(__name__)

#: name of a cache root's secret key file
KEY_FILE = ".plait-key"
KEY_SIZE = 32
KEY_ID_SIZE = 8
_TRUSTED_ENV = "PLAIT_TRUSTED_CACHES"

_guard = threading.Lock()
_writer: dict[str, tuple[bytes, bytes]] = {}  # cache root -> (key id, key)
_readers: dict[str, dict[bytes, bytes]] = {}  # cache root -> {key id: key}
_trusted: dict[str, bytes | None] = {}  # realpath of a root -> its key, or None: trust all
_user_key: tuple[bytes, bytes] | None = None
_warned: set[str] = set()


def key_id(key: bytes) -> bytes:
    """The public identifier of a key (8 bytes), stored next to each MAC made with it."""
    return blake3(b"plait key id\0" + key).digest(KEY_ID_SIZE)


def trust_cache(root: str | os.PathLike[str], key: bytes | str | os.PathLike[str] | None) -> None:
    """Load pickled results from the cache at ``root`` (another user's, typically).

    ``key`` is that cache's secret key (the bytes, or the path of its key file):
    its pickled results are loaded when their MAC verifies with it. ``None``
    trusts every pickled result there without authentication: anyone who can
    write to that cache can then run code in this process (logged as a warning).
    """
    real = os.path.realpath(root)
    if key is None:
        logger.warning(
            "trusting every pickled result in %s without authentication: anyone who can "
            "write there can run code in this process",
            real,
        )
        value = None
    elif isinstance(key, bytes):
        value = key
    else:
        value = Path(key).read_bytes()
    with _guard:
        _trusted[real] = value
        _readers.clear()


def trusts_all(root: str) -> bool:
    """Whether pickled results in ``root`` are loaded without authentication."""
    real = os.path.realpath(root)
    env = os.environ.get(_TRUSTED_ENV, "")
    if env and real in {os.path.realpath(p) for p in env.split(os.pathsep) if p}:
        return True
    return real in _trusted and _trusted[real] is None


def writer_key(root: str) -> tuple[bytes, bytes]:
    """(key id, key) that signs the pickled results written into the cache ``root``."""
    found = _writer.get(root)
    if found is None:
        own = _own_key(os.path.join(root, KEY_FILE), create=True)
        found = own if own is not None else _user()
        with _guard:
            _writer[root] = found
    return found


def reader_keys(root: str, refresh: bool = False) -> dict[bytes, bytes]:
    """{key id: key} of every key that authenticates pickled results found in ``root``.

    Cached per root; ``refresh`` reads the key files again (a key made since).
    """
    found = None if refresh else _readers.get(root)
    if found is None:
        found = {}
        own = _own_key(os.path.join(root, KEY_FILE), create=False)
        if own is not None:
            found[own[0]] = own[1]
        user = _user()
        found[user[0]] = user[1]
        real = os.path.realpath(root)
        with _guard:
            extra = _trusted.get(real)
        if extra is not None:
            found[key_id(extra)] = extra
        with _guard:
            _readers[root] = found
    return found


def _user() -> tuple[bytes, bytes]:
    global _user_key
    if _user_key is None:
        import platformdirs

        path = os.path.join(platformdirs.user_config_dir("plait"), "key")
        found = _own_key(path, create=True)
        if found is None:
            raise PermissionError(f"cannot use or create the plait user key {path}")
        _user_key = found
    return _user_key


def _own_key(path: str, create: bool) -> tuple[bytes, bytes] | None:
    """The key in ``path`` if this user owns it and no one else can read or write it.

    With ``create``, a missing key file is made (0600); a key file that is not
    private to this user is ignored (with a warning, once).
    """
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            if not create:
                return None
            with contextlib.suppress(FileExistsError):
                _create_key(path)
            continue
        except OSError as exc:
            _warn_once(path, f"cannot read the cache key {path}: {exc}")
            return None
        try:
            st = os.fstat(fd)
            key = os.read(fd, KEY_SIZE + 1)
        finally:
            os.close(fd)
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.geteuid()
            or st.st_mode & 0o077
            or len(key) != KEY_SIZE
        ):
            _warn_once(
                path,
                f"ignoring the cache key {path}: it must be a {KEY_SIZE}-byte file owned by "
                "this user and readable by no one else (mode 0600)",
            )
            return None
        return key_id(key), key
    return None


def _create_key(path: str) -> None:
    """Write a new random key to ``path`` (0600), atomically; FileExistsError if one exists."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.write(fd, os.urandom(KEY_SIZE))
        finally:
            os.close(fd)
        os.link(tmp, path)  # fails if another process made the key meanwhile
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning("%s", message)
