"""Job locks: one owner per job directory, dead owners detected, take-over exclusive.

A lock is the file ``<job dir>/.lock``, created with ``O_CREAT|O_EXCL`` and
holding one line that names its owner: pid, host, boot id, pid namespace,
process start time, time, and a random token. The protocol, step by step (see
docs/cache.md):

1. **Acquire**: create ``.lock`` exclusively. If it exists, read it.
2. **Alive?** An owner in this process namespace on this boot is alive while a
   process with its pid *and its start time* exists (a reused pid is another
   process, so not the owner). Any other owner (another host, container or
   boot, an empty or foreign file) is alive while its lease is fresh: the
   lock's mtime, renewed every ``LOCK_LEASE / 4`` seconds by its owner.
3. **Wait** (with back-off, bounded by ``max_wait``) while the owner is alive.
4. **Take over** a dead owner's lock: create the claim file
   ``.lock.claim-<hash of the dead lock>`` exclusively; only its creator
   continues. It reads ``.lock`` again and, if it is still the dead lock,
   renames it to a private name, checks that the renamed file is the dead lock
   (else puts it back) and deletes it. The claim is then removed and the
   process goes back to step 1 and competes for a fresh ``.lock`` like anyone
   else. A claim whose creator died is itself taken over the same way.
5. **Commit** (:meth:`JobLock.publish`): the result is appended to this
   lock's own file and that file is hard-linked as the result *through the
   descriptor held since step 1*, so only this process's own file can ever be
   published; where that is not possible, it is written to a private
   temporary file and renamed into place. A lock path is never renamed.
6. **Release**: delete ``.lock`` if it is still this lock (same inode as the
   descriptor held since step 1).

Correctness never depends on the lock: if two processes ever ran the same job
(an owner on another host that stopped renewing its lease but lives on), both
would write the same result, each atomically.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import socket
import threading
import time
from typing import Any

from blake3 import blake3

from . import fsio

__all__ = ["LOCK_FILE", "LOCK_LEASE", "JobLock", "owner_alive", "remove_if_abandoned"]

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"
CLAIM_INFIX = ".claim-"
#: seconds after which a lock whose owner cannot be checked (another host or
#: container, an empty or foreign file) is abandoned unless its owner renews it
LOCK_LEASE = 60.0

_HOST = socket.gethostname()


def _read_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


_BOOT = _read_text("/proc/sys/kernel/random/boot_id")
try:
    _PIDNS = os.readlink("/proc/self/ns/pid")
except OSError:
    _PIDNS = ""


def process_start_time(pid: int) -> int | None:
    """The start time of process ``pid`` (clock ticks after boot); None if there is none.

    -1 when the process exists but its start time cannot be read (no ``/proc``).
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return -1
    return -1


_me: tuple[bytes, bytes] | None = None


def _forget_owner() -> None:
    global _me
    _me = None


os.register_at_fork(after_in_child=_forget_owner)


def _owner_prefix() -> tuple[bytes, bytes]:
    """The fixed part of this process's owner line and a random salt (new after a fork)."""
    global _me
    if _me is None:
        pid = os.getpid()
        start = process_start_time(pid)
        fields = {"pid": pid, "host": _HOST, "boot": _BOOT, "ns": _PIDNS, "start": start}
        _me = (json.dumps(fields)[:-1].encode(), os.urandom(8).hex().encode())
    return _me


_tokens = itertools.count()


def owner_line() -> bytes:
    """One JSON line naming this process as an owner, with a token unique to this line."""
    prefix, salt = _owner_prefix()
    return b'%s, "time": %.6f, "token": "%s-%d"}\n' % (prefix, time.time(), salt, next(_tokens))


def owner_alive(raw: bytes, mtime: float) -> bool:
    """Whether the owner named by the lock content ``raw`` (mtime ``mtime``) is alive."""
    fresh = time.time() - mtime < LOCK_LEASE
    try:
        info: dict[str, Any] = json.loads(raw.split(b"\n", 1)[0])
        pid = int(info["pid"])
    except (ValueError, KeyError, TypeError):
        return fresh  # empty (its creator may be writing it) or foreign: its lease
    if info.get("host") != _HOST:
        return fresh
    if "boot" not in info:  # an older plait's lock: pid only
        return process_start_time(pid) is not None and fresh
    if info["boot"] != _BOOT or info.get("ns") != _PIDNS or not _BOOT:
        return fresh  # another boot or container: pids there mean nothing here
    start = process_start_time(pid)
    if start is None:
        return False
    if start == -1 or info.get("start") in (None, -1):
        return fresh
    return bool(start == info["start"])


class _Heartbeat:
    """Renews the leases of the locks this process holds, from one daemon thread."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def forked(self) -> None:
        """In a forked child: the parent's thread and locks are not here."""
        self._guard = threading.Lock()
        self._held = set()
        self._thread = None

    def add(self, path: str) -> None:
        with self._guard:
            self._held.add(path)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="plait-lock-lease")
                self._thread.daemon = True
                self._thread.start()

    def discard(self, path: str) -> None:
        with self._guard:
            self._held.discard(path)

    def _run(self) -> None:
        while True:
            time.sleep(LOCK_LEASE / 4)
            with self._guard:
                held = list(self._held)
            for path in held:
                with contextlib.suppress(OSError):
                    os.utime(path)


_heartbeat = _Heartbeat()
os.register_at_fork(after_in_child=_heartbeat.forked)


def _create(path: str, content: bytes) -> int:
    """Create ``path`` exclusively with ``content``; return its open descriptor.

    FileExistsError if it exists; any write error removes the file and raises.
    """
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    try:
        fsio.write_all(fd, content)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return fd


def _inspect(path: str) -> tuple[bytes, int, float] | None:
    """(content, inode, mtime) of the file at ``path``, None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    return raw, st.st_ino, st.st_mtime


def _take_over(path: str, dead: tuple[bytes, int, float], depth: int = 0) -> None:
    """Remove the lock at ``path`` if it is still the dead lock ``dead``, exclusively.

    Returns in every case; the caller inspects ``path`` again.
    """
    raw, ino, _ = dead
    claim = f"{path}{CLAIM_INFIX}{blake3(raw + b'%d' % ino).hexdigest(8)}"
    try:
        fd = _create(claim, owner_line())
    except FileExistsError:
        # someone else is taking this lock over; if that claimant died, take its claim over
        found = _inspect(claim)
        if found is not None and depth < 8 and not owner_alive(found[0], found[2]):
            _take_over(claim, found, depth + 1)
        return
    try:
        now = _inspect(path)
        if now is None or now[0] != raw or now[1] != ino:
            return  # already gone, or another lock now
        moved = f"{path}.dead-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            os.rename(path, moved)
        except FileNotFoundError:
            return
        got = _inspect(moved)
        if got is not None and (got[0] != raw or got[1] != ino):
            # not the dead lock (its owner was alive after all and a new lock was made):
            # put it back where it was
            logger.warning("lock %s changed during take-over; restoring it", path)
            with contextlib.suppress(FileExistsError):
                os.link(moved, path)
        else:
            logger.info("took over abandoned lock %s", path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(moved)
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(claim)


def remove_if_abandoned(cache_dir: str) -> None:
    """Take over and delete the lock of ``cache_dir`` if its owner is dead (else leave it).

    For a pool that has just lost or killed the process running that job.
    """
    path = f"{cache_dir}/{LOCK_FILE}"
    found = _inspect(path)
    if found is not None and not owner_alive(found[0], found[2]):
        _take_over(path, found)


class JobLock:
    """The lock of one job directory (see the module docstring for the protocol).

    ``acquire`` waits while another live process holds it (at most ``max_wait``
    seconds if given, then ``TimeoutError``) and takes over a dead owner's
    lock; ``release`` drops it. The result is written separately
    (:func:`plait.cache.save_result`), never by renaming the lock.
    """

    def __init__(self, cache_dir: str, max_wait: float | None = None) -> None:
        self.cache_dir = cache_dir
        self.path = f"{cache_dir}/{LOCK_FILE}"
        self.max_wait = max_wait
        self._fd: int | None = None
        self._published = False
        self._since = 0.0

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock; return True if another process held it meanwhile."""
        delay = 0.001
        start = time.monotonic()
        waited = False
        while True:
            try:
                fd = _create(self.path, owner_line())
            except FileExistsError:
                pass
            else:
                self._fd = fd
                self._since = time.monotonic()
                _heartbeat.add(self.path)
                return waited
            waited = True
            found = _inspect(self.path)
            if found is None:
                continue
            if not owner_alive(found[0], found[2]):
                _take_over(self.path, found)
                continue
            if self.max_wait is not None and time.monotonic() - start > self.max_wait:
                raise TimeoutError(f"job {self.cache_dir} is locked by another process")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _young(self) -> bool:
        """Held for less than half a lease: no other process can have judged it abandoned.

        (An owner on this host is judged by pid and start time, never by age;
        one elsewhere only once its lease, renewed by this process, is stale.)
        """
        return time.monotonic() - self._since < LOCK_LEASE / 2

    def publish(self, parts: list[bytes], target: str) -> bool:
        """Append ``parts`` to this lock's own file and hard-link that file as ``target``.

        The file is written through the descriptor held since :meth:`acquire`;
        after linking, ``target`` is checked to be that very file (same inode as
        the descriptor) and removed if it is not (a lock taken over while held),
        so only this process's own, complete file is ever published. Returns
        False when nothing was published (``target`` exists, a file system
        without hard links, a lock no longer ours): the caller then writes
        ``target`` through a private temporary file. Raises if a write fails.
        """
        fd = self._fd
        if fd is None:
            return False
        if len(parts) > 1 and sum(len(p) for p in parts) < 1 << 16:
            parts = [b"".join(parts)]  # one write call for a small result
        for part in parts:
            fsio.write_all(fd, part)
        if fsio.FSYNC:
            os.fsync(fd)
        try:
            os.link(self.path, target)
        except OSError:
            return False
        if self._young():
            self._published = True
            return True
        mine = os.fstat(fd)
        there = os.stat(target)
        if (there.st_ino, there.st_dev) != (mine.st_ino, mine.st_dev):
            logger.warning("lock %s was taken over while held; not publishing it", self.path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            return False
        self._published = True
        return True

    def release(self) -> None:
        """Drop the lock (only if it is still this one: never another process's)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        _heartbeat.discard(self.path)
        try:
            if self._published or self._young():  # no one can have taken it over
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                return
            mine = os.fstat(fd)
            try:
                there = os.stat(self.path)
            except FileNotFoundError:
                return
            if (there.st_ino, there.st_dev) == (mine.st_ino, mine.st_dev):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
            else:
                logger.warning("lock %s was taken over while held; leaving the new one", self.path)
        finally:
            self._published = False
            os.close(fd)
