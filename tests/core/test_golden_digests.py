"""Pinned digests: any change in the bytes that are hashed fails here.

If a change to hashing, identities or checksums is intended, bump
``HASH_FORMAT_VERSION`` in ``plait/hashing.py`` (so old cache entries are not
taken for new ones) and update the digests below in the same commit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fileformats.generic import File
from golden_tasks import CountLines, Scale

import plait
from plait.hashing import HASH_FORMAT_VERSION, hash_object

BUMP = (
    "hash bytes changed: if intended, bump HASH_FORMAT_VERSION in plait/hashing.py "
    "and update the pinned digests in tests/core/test_golden_digests.py"
)

VALUES = {
    "int": (1, "15d87968f75d930069d81437dfaa28f2"),
    "str": ("plait", "57ce3e8d045e305bd522c9bda08e67ae"),
    "float": (0.1, "2bca3cc5701b8aec6c275a185f8334c8"),
    "None": (None, "34ab8b65c2622b75106dba567a23b032"),
    "list": ([1, "x", None, 2.5], "63a24280da87ba141141ed928b303ba7"),
    "dict": ({"b": 2, "a": [1, 2.5], "c": {"n": None}}, "a5ba613618f34206c1bddaeea90e2a01"),
    "ndarray": (np.arange(6, dtype="<i8").reshape(2, 3), "a0d71d5c2cf9516b4e764aeca5fffde8"),
}


@pytest.fixture
def golden_file(tmp_path: Path) -> File:
    path = tmp_path / "anywhere.txt"
    path.write_bytes(b"golden\n")
    return File(path)


def test_format_version_of_the_pinned_digests() -> None:
    assert HASH_FORMAT_VERSION == 2, BUMP


@pytest.mark.parametrize("name", list(VALUES))
def test_value_digests_are_pinned(name: str) -> None:
    value, expected = VALUES[name]
    assert hash_object(value) == expected, BUMP


def test_file_digest_is_pinned_and_independent_of_its_path(golden_file: File) -> None:
    assert hash_object(golden_file) == "112d1b40894bf4881e19246c8f22726e", BUMP


def test_job_checksums_are_pinned(golden_file: File) -> None:
    jobs = plait.compile(Scale().split(x=[1, 2]), cache_root="/x").static_jobs("Scale")
    assert jobs is not None
    assert [j.checksum for j in jobs] == [
        "3219bd67c07509a3c3a2976f5b0a9e2f",
        "76d78b4734b0d8727f4ea542f6311f25",
    ], BUMP
    shell_jobs = plait.compile(CountLines(in_file=golden_file), cache_root="/x").static_jobs(
        "CountLines"
    )
    assert shell_jobs is not None
    assert shell_jobs[0].checksum == "268eb5e3e207eda14ca7f32ee7558218", BUMP
