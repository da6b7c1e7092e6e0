"""Tests of plait.filehash: the persistent, multi-writer file-hash cache."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from plait.filehash import (
    FileHashCache,
    default_file_hash_cache,
    hash_file_content,
    set_file_hash_cache,
)

OLD_NS = 1_600_000_000 * 10**9  # a mtime safely in the past (not "racy")


def _make(path: Path, data: bytes, mtime_ns: int = OLD_NS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def _entries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_hash_is_content_digest(tmp_path: Path) -> None:
    f = _make(tmp_path / "f", b"hello")
    cache = FileHashCache(tmp_path / "cache")
    assert cache.hash_file(f) == hash_file_content(f)
    assert len(cache.hash_file(f)) == 32


def test_unchanged_file_is_read_once(tmp_path: Path) -> None:
    f = _make(tmp_path / "f", b"x" * 100_000)
    cache = FileHashCache(tmp_path / "cache")
    first = cache.hash_file(f)
    for _ in range(5):
        assert cache.hash_file(f) == first
    assert cache.files_read == 1
    # a new object on the same root (another process, later) reads nothing
    other = FileHashCache(tmp_path / "cache")
    assert other.hash_file(str(f)) == first
    assert other.files_read == 0


def test_rename_keeps_hash(tmp_path: Path) -> None:
    f = _make(tmp_path / "a.txt", b"content")
    cache = FileHashCache(tmp_path / "cache")
    h = cache.hash_file(f)
    moved = tmp_path / "sub" / "b.txt"
    moved.parent.mkdir()
    os.rename(f, moved)
    assert cache.hash_file(moved) == h


def test_changed_content_changes_hash(tmp_path: Path) -> None:
    f = _make(tmp_path / "f", b"one")
    cache = FileHashCache(tmp_path / "cache")
    h = cache.hash_file(f)
    _make(f, b"two", OLD_NS + 10**9)
    assert cache.hash_file(f) != h
    # same size, same mtime, new content: the inode is kept by write_bytes, so
    # only a different key is guaranteed to be noticed -- use a new mtime
    _make(f, b"thr", OLD_NS + 2 * 10**9)
    assert cache.hash_file(f) == hash_file_content(f)


def test_new_mtime_same_content_rereads_exactly_once(tmp_path: Path) -> None:
    f = _make(tmp_path / "f", b"same bytes")
    cache = FileHashCache(tmp_path / "cache")
    h = cache.hash_file(f)
    assert cache.files_read == 1
    os.utime(f, ns=(OLD_NS + 5 * 10**9, OLD_NS + 5 * 10**9))
    assert cache.hash_file(f) == h
    assert cache.hash_file(f) == h
    assert cache.hash_file(f) == h
    assert cache.files_read == 2


def test_recently_modified_file_is_not_cached(tmp_path: Path) -> None:
    f = tmp_path / "fresh"
    f.write_bytes(b"just written")
    cache = FileHashCache(tmp_path / "cache")
    assert cache.hash_file(f) == cache.hash_file(f)
    assert cache.files_read == 2
    assert not _entries(tmp_path / "cache")


def test_corrupt_or_partial_entry_is_ignored(tmp_path: Path) -> None:
    f = _make(tmp_path / "f", b"data" * 1000)
    cache = FileHashCache(tmp_path / "cache")
    h = cache.hash_file(f)
    (entry,) = _entries(tmp_path / "cache")
    good = entry.read_bytes()
    for bad in (b"", good[:10], good[:-1], good[:-1] + bytes([good[-1] ^ 1]), b"garbage"):
        entry.write_bytes(bad)
        fresh = FileHashCache(tmp_path / "cache")
        assert fresh.hash_file(f) == h
        assert fresh.files_read == 1
        assert entry.read_bytes() == good  # rewritten


def test_not_a_file(tmp_path: Path) -> None:
    cache = FileHashCache(tmp_path / "cache")
    with pytest.raises(IsADirectoryError):
        cache.hash_file(tmp_path)
    with pytest.raises(FileNotFoundError):
        cache.hash_file(tmp_path / "missing")


def test_unwritable_cache_still_hashes(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache directory should be")
    f = _make(tmp_path / "f", b"abc")
    cache = FileHashCache(blocker / "cache")
    assert cache.hash_file(f) == hash_file_content(f)


def test_default_cache_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = set_file_hash_cache(None)
    try:
        monkeypatch.setenv("PLAIT_FILE_HASH_CACHE", str(tmp_path / "env-cache"))
        default = default_file_hash_cache()
        assert default.root == tmp_path / "env-cache"
        assert default_file_hash_cache() is default
        mine = FileHashCache(tmp_path / "mine")
        assert set_file_hash_cache(mine) is default
        assert default_file_hash_cache() is mine
        set_file_hash_cache(None)
        monkeypatch.delenv("PLAIT_FILE_HASH_CACHE")
        assert default_file_hash_cache().root.name == "file-hashes"
    finally:
        set_file_hash_cache(previous)


def _hash_all(args: tuple[str, list[str]]) -> list[str]:
    root, paths = args
    cache = FileHashCache(root)
    return [cache.hash_file(p).hex() for p in paths * 3]


def test_concurrent_processes_agree_and_leave_no_partial_entries(tmp_path: Path) -> None:
    files = [str(_make(tmp_path / "data" / f"f{i}", os.urandom(200_000 + i))) for i in range(12)]
    root = str(tmp_path / "cache")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_hash_all, [(root, files[i:] + files[:i]) for i in range(8)])
    expected = [hash_file_content(p).hex() for p in files]
    for i, result in enumerate(results):
        rotated = files[i:] + files[:i]
        assert result == [hash_file_content(p).hex() for p in rotated * 3]
    entries = _entries(tmp_path / "cache")
    assert len(entries) == len(files)
    assert not [p for p in entries if p.name.endswith(".tmp")]
    check = FileHashCache(root)
    assert sorted(check.hash_file(p).hex() for p in files) == sorted(expected)
    assert check.files_read == 0


def test_same_size_in_place_edit_with_mtime_restored_misses(tmp_path: Path) -> None:
    """An edit that keeps the size and puts the mtime back (``touch -d``, ``cp -p``)."""
    cache = FileHashCache(tmp_path / "cache")
    f = _make(tmp_path / "data.bin", b"first content")
    st = os.stat(f)
    before = cache.hash_file(f)
    time.sleep(0.01)  # a new ctime tick
    with open(f, "r+b") as fh:  # same inode, same size
        fh.write(b"FIRST")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(f).st_mtime_ns == st.st_mtime_ns and os.stat(f).st_size == st.st_size
    assert cache.hash_file(f) != before
    assert cache.hash_file(f) == hash_file_content(f)


def test_recreated_file_reusing_inode_misses(tmp_path: Path) -> None:
    cache = FileHashCache(tmp_path / "cache")
    f = _make(tmp_path / "a.txt", b"aaaa")
    st = os.stat(f)
    before = cache.hash_file(f)
    time.sleep(0.01)
    f.unlink()
    f.write_bytes(b"bbbb")  # may or may not get the same inode back
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cache.hash_file(f) != before
