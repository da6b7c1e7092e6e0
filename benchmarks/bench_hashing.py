"""Benchmark plait's hashing: file throughput, cached lookups, small values.

Run: PYTHONPATH=core/src python benchmarks/bench_hashing.py [--size-mib 1024]

Creates a file of random bytes in a temporary directory (deleted afterwards)
and prints, for the same bytes with the OS page cache warm:

* GB/s of ``FileHashCache.hash_file`` with no cache entry (cold plait cache),
* GB/s of hashing the file directly with blake3 the same way (1 MiB reads),
  and the ratio of the two (goal >= 0.9 and >= 1 GB/s),
* the time of a cached lookup of the same file,
* microseconds per ``hash_object`` of a small dict of scalars and per
  ``hash_function`` of a small function.

Figures only: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import timeit
from pathlib import Path

from blake3 import blake3

from plait.filehash import FileHashCache
from plait.hashing import hash_function, hash_object

OLD_NS = 1_600_000_000 * 10**9


def _direct(path: Path) -> bytes:
    h = blake3()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.digest()


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="plait-bench-"))
    try:
        data = tmp / "data.bin"
        chunk = os.urandom(1 << 20)
        with open(data, "wb") as f:
            for i in range(args.size_mib):
                f.write(chunk[:-8] + i.to_bytes(8, "little"))
        os.utime(data, ns=(OLD_NS, OLD_NS))  # not "just modified": cacheable
        size = data.stat().st_size
        _direct(data)  # warm the OS page cache

        direct = _best(lambda: _direct(data), args.repeat)
        roots = iter(range(args.repeat))

        def plait_cold() -> None:
            FileHashCache(tmp / f"cache-{next(roots)}").hash_file(data)

        cold = _best(plait_cold, args.repeat)
        assert FileHashCache(tmp / "cache-0").hash_file(data) == _direct(data)
        warm_cache = FileHashCache(tmp / "cache-0")
        n = 2000
        cached = timeit.timeit(lambda: warm_cache.hash_file(data), number=n) / n
        print(f"file size                  {size / 2**30:.2f} GiB")
        print(f"direct blake3 (1 MiB reads) {size / direct / 1e9:6.2f} GB/s")
        print(f"plait hash_file, cold       {size / cold / 1e9:6.2f} GB/s")
        print(f"ratio plait/direct          {direct / cold:6.2f}")
        print(f"plait hash_file, cached     {cached * 1e6:6.1f} us per lookup")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    small = {"p": 3, "name": "sub-01", "threshold": 0.5, "flag": True, "mode": None}
    n = 100_000
    per = min(timeit.repeat(lambda: hash_object(small), number=n, repeat=5)) / n
    print(f"hash_object(dict of 5 scalars) {per * 1e6:6.2f} us")
    per = (
        min(timeit.repeat(lambda: hash_object(("id" * 16, [1, 2], small)), number=n, repeat=5)) / n
    )
    print(f"hash_object(job-like tuple)    {per * 1e6:6.2f} us")

    def task(p: int) -> int:
        return 10**p + len(small)

    n = 10_000
    per = min(timeit.repeat(lambda: hash_function(task), number=n, repeat=5)) / n
    print(f"hash_function(small closure)   {per * 1e6:6.2f} us")


if __name__ == "__main__":
    main()
