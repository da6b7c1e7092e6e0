"""The trust boundary: planted pickles never run, untrusted caches never unpickled (issue 11)."""

from __future__ import annotations

import os
import pickle
import stat
import struct
from pathlib import Path

import pytest
from blake3 import blake3
from rel_tasks import MakeOpaque, Opaque, Square, marks

from plait import Submitter
from plait import resultfile as rf
from plait.cache import RESULT_FILE, load_result
from plait.trust import KEY_FILE, key_id, trust_cache


class Evil:
    """Unpickling this writes the marker file: code run by a result load."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def _old_format(marker: Path) -> bytes:
    """A result.pkl as plait wrote them before: an owner line, then a plain pickle."""
    return b'{"pid": 1}\n' + pickle.dumps((1, {"out": Evil(str(marker))}, 0.0, 0.0, 0))


def _signed(job_dir: Path, marker: Path, key: bytes) -> bytes:
    """A new-format pickled result with a valid digest, signed with ``key``."""
    meta = rf.msgpack.packb([0.0, 0.0, 0, []])
    body = pickle.dumps({"out": Evil(str(marker))})
    head = struct.pack(
        "<8sB8sQQ", rf.MAGIC, rf.CODEC_PICKLE, key_id(key), len(meta), len(meta) + len(body)
    )
    name = job_dir.name.encode() + b"\0" + head
    digest = blake3(name + meta + body).digest(16)
    mac = blake3(name + meta + body, key=key).digest(32)
    return head + digest + mac + meta + body


@pytest.mark.parametrize("planted", ["old format", "forged key", "forged mac"])
def test_planted_pickle_never_runs(
    cache: Path, tmp_path: Path, marks_file: Path, planted: str
) -> None:
    first = Submitter(cache_root=cache)(Square(x=4))
    job_dir = first.cache_dir
    assert job_dir is not None
    marker = tmp_path / "pwned"
    if planted == "old format":
        data = _old_format(marker)
    elif planted == "forged key":
        data = _signed(job_dir, marker, os.urandom(32))
    else:  # the cache's own key id, a MAC made without the key
        own = cache / KEY_FILE
        if not own.exists():  # data results do not need the key: make it as a pickle would
            Submitter(cache_root=cache)(MakeOpaque(v=1))
        good = _signed(job_dir, marker, own.read_bytes())
        data = good[: 41 + 16] + os.urandom(32) + good[41 + 16 + 32 :]
    (job_dir / RESULT_FILE).write_bytes(data)
    again = Submitter(cache_root=cache)(Square(x=4))
    assert not marker.exists()
    assert again.outputs.out == 16 and not again.errored
    assert marks(marks_file).count("Square:4") == 2  # the planted result was not served


def test_untrusted_readonly_cache_pickles_never_load(tmp_path: Path, marks_file: Path) -> None:
    theirs = tmp_path / "theirs"
    mine = tmp_path / "mine"
    first = Submitter(cache_root=theirs)(Square(x=5))
    job_dir = first.cache_dir
    assert job_dir is not None
    marker = tmp_path / "pwned"
    their_key = os.urandom(32)  # another user's key, which this user does not hold
    (job_dir / RESULT_FILE).write_bytes(_signed(job_dir, marker, their_key))
    result = Submitter(cache_root=mine, readonly_caches=[theirs])(Square(x=5))
    assert not marker.exists()
    assert result.outputs.out == 25
    assert marks(marks_file).count("Square:5") == 2
    assert (job_dir / RESULT_FILE).exists()  # a read-only cache is never modified


def test_trusted_readonly_cache_with_its_key(tmp_path: Path, marks_file: Path) -> None:
    theirs = tmp_path / "theirs"
    Submitter(cache_root=theirs)(MakeOpaque(v=7))
    key_file = theirs / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # another user's cache: its key is not ours (simulated by replacing our view of it)
    their_key = key_file.read_bytes()
    key_file.unlink()
    mine = tmp_path / "mine"
    untrusted = Submitter(cache_root=mine, readonly_caches=[theirs])(MakeOpaque(v=7))
    assert untrusted.outputs.out == Opaque(7)
    assert marks(marks_file) == ["MakeOpaque:7", "MakeOpaque:7"]
    trust_cache(theirs, their_key)
    trusted = Submitter(cache_root=tmp_path / "third", readonly_caches=[theirs])(MakeOpaque(v=7))
    assert trusted.outputs.out == Opaque(7)
    assert marks(marks_file) == ["MakeOpaque:7", "MakeOpaque:7"]  # loaded, not run


def test_plain_data_is_stored_without_pickle(cache: Path) -> None:
    import numpy as np

    values = {
        "out": (
            1,
            [2.5, None, True],
            {"a": b"x", 3: frozenset({1})},
            Path("/p"),
            np.arange(3),
            np.float32(2.0),
            2**80,
            1 + 2j,
            {4, 5},
        )
    }
    job_dir = cache / "python-abc"
    job_dir.mkdir()
    parts = rf.encode(values, 1.0, 2.0, 3, str(job_dir))
    data = b"".join(parts)
    assert data[8] == rf.CODEC_DATA
    assert b"numpy.core" not in data and b"\x80\x05" not in data[:100]
    back = rf.decode(data, str(job_dir), str(cache)).outputs
    out, ref = back["out"], values["out"]
    assert out[:2] == ref[:2] and out[2] == ref[2] and out[3] == ref[3]
    assert type(out[0]) is int and type(out) is tuple
    assert (out[4] == ref[4]).all() and out[5] == ref[5] and out[5].dtype == np.float32
    assert out[6:] == ref[6:]


def test_job_dirs_are_not_group_writable(cache: Path) -> None:
    old = os.umask(0o002)
    try:
        result = Submitter(cache_root=cache)(Square(x=9))
    finally:
        os.umask(old)
    assert result.cache_dir is not None
    assert stat.S_IMODE(result.cache_dir.stat().st_mode) & 0o022 == 0
    assert load_result(result.cache_dir) is not None


def test_pickled_result_written_after_a_first_look_is_reused(cache: Path, marks_file: Path) -> None:
    # the first look-up happens before the cache root has a key; the key is made by the
    # first pickled result; the same process must then authenticate it
    with Submitter(cache_root=cache) as sub:
        sub(Square(x=1))
        first = sub(MakeOpaque(v=3))
        again = sub(MakeOpaque(v=3))
    assert first.outputs.out == again.outputs.out == Opaque(3)
    assert marks(marks_file).count("MakeOpaque:3") == 1
