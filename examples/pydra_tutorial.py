"""The Pydra tutorial's two first cases on plait.

1. ``TenToThePower`` split over ``p`` and run on the ``cf`` worker (a process pool).
2. A command-line tool (``wc -l``) over a few files; the files are then renamed
   and the tool run again: plait hashes files by content, so nothing runs twice.

Run it::

    python examples/pydra_tutorial.py [--cache-root DIR]

Expected output::

    10**p for p in 1..5 on cf: [10, 100, 1000, 10000, 100000]
    lines per file: [2, 3, 1] (3 jobs ran, 0 from the cache)
    after renaming the files: [2, 3, 1] (0 jobs ran, 3 from the cache)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from plait import Progress, Submitter, python, shell


@python.define
def TenToThePower(p: int) -> int:
    """Ten to the power ``p``."""
    return 10**p


# wc prints "<count> <path>"; the file is hashed by content, not by its name
CountLines = shell.define("wc -l <in_file:generic/file>")


def count_lines(files: list[Path], cache_root: str) -> tuple[list[int], int, int]:
    """Lines of each file, and how many jobs ran and how many came from the cache."""
    events: list[Progress] = []
    with Submitter(worker="cf", n_procs=2, cache_root=cache_root, progress=events.append) as sub:
        result = sub(CountLines().split(in_file=files))
    result.raise_for_errors()
    counts = [int(out.split()[0]) for out in result.outputs.stdout]
    ran = sum(e.status == "submitted" for e in events)
    cached = sum(e.status == "cached" for e in events)
    return counts, ran, cached


def main() -> None:
    """Run both cases and print what they computed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-root", default=None, help="default: a new temporary directory")
    args = parser.parse_args()
    cache_root = args.cache_root or tempfile.mkdtemp(prefix="plait-tutorial-")

    powers = TenToThePower().split(p=[1, 2, 3, 4, 5])(worker="cf", n_procs=2, cache_root=cache_root)
    print("10**p for p in 1..5 on cf:", powers.out)

    data = Path(tempfile.mkdtemp(prefix="plait-tutorial-files-"))
    files = []
    for name, text in [("a.txt", "1\n2\n"), ("b.txt", "1\n2\n3\n"), ("c.txt", "1\n")]:
        (data / name).write_text(text)
        files.append(data / name)
    counts, ran, cached = count_lines(files, cache_root)
    print(f"lines per file: {counts} ({ran} jobs ran, {cached} from the cache)")

    renamed = [f.rename(f.with_name("renamed-" + f.name)) for f in files]
    counts, ran, cached = count_lines(renamed, cache_root)
    print(f"after renaming the files: {counts} ({ran} jobs ran, {cached} from the cache)")


if __name__ == "__main__":
    main()
