"""Parsl's workflow patterns on plait: MapReduce, files passed between shell tasks, a chain.

- **MapReduce**: ``Square`` split over 0..9 (one job each), combined, then ``Sum``.
- **Files between command-line tools**: a Python task writes numbers to a file,
  ``sort -n`` writes a sorted copy, ``head -n 3`` reads it; each tool gets the
  previous one's output file, never a path you manage.
- **A dependent chain**: ``Increment`` three times, each job waiting for the last.

Run it::

    python examples/parsl_patterns.py [--worker cf] [--cache-root DIR]

Expected output::

    map-reduce: sum of squares of 0..9 = 285
    files: the three smallest of [42, 7, 19, 3, 25] are [3, 7, 19]
    chain: 0 -> 1 -> 2 -> 3
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fileformats.generic import File

from plait import Submitter, python, shell, workflow


@python.define
def Square(x: int) -> int:
    """``x * x``."""
    return x * x


@python.define
def Sum(xs: list[int]) -> int:
    """The sum of ``xs``."""
    return sum(xs)


@workflow.define
def MapReduce(xs: list[int]) -> int:
    """Square every x in its own job, then add the squares up in one."""
    squares = workflow.add(Square().split(x=xs).combine("x"))
    return workflow.add(Sum(xs=squares.out)).out


@python.define
def WriteNumbers(numbers: list[int]) -> File:
    """Write one number per line to a file (plait keeps the file in the job's directory)."""
    path = Path(tempfile.mkdtemp()) / "numbers.txt"
    path.write_text("".join(f"{n}\n" for n in numbers))
    return File(path)


SortNumbers = shell.define("sort -n <in_file:generic/file> -o <out|sorted:generic/file>")
Head = shell.define("head -n <count:int> <in_file:generic/file>")


@workflow.define
def SmallestThree(numbers: list[int]) -> str:
    """numbers -> file -> sorted file -> its first three lines."""
    written = workflow.add(WriteNumbers(numbers=numbers))
    ordered = workflow.add(SortNumbers(in_file=written.out))
    head = workflow.add(Head(count=3, in_file=ordered.sorted))
    return head.stdout


@python.define
def Increment(x: int) -> int:
    """``x + 1``."""
    return x + 1


@workflow.define(outputs=["first", "second", "third"])
def Chain(start: int) -> tuple[int, int, int]:
    """Three increments, each depending on the previous one."""
    one = workflow.add(Increment(x=start), name="One")
    two = workflow.add(Increment(x=one.out), name="Two")
    three = workflow.add(Increment(x=two.out), name="Three")
    return one.out, two.out, three.out


def main() -> None:
    """Run the three patterns and print what they computed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", default="cf", help="debug, cf (default), dask ...")
    parser.add_argument("--cache-root", default=None, help="default: $PLAIT_CACHE_ROOT or ~/.cache")
    args = parser.parse_args()
    options = {"n_procs": 2} if args.worker == "cf" else {}

    with Submitter(worker=args.worker, cache_root=args.cache_root, **options) as sub:
        total = sub(MapReduce(xs=list(range(10))))
        numbers = [42, 7, 19, 3, 25]
        smallest = sub(SmallestThree(numbers=numbers))
        chain = sub(Chain(start=0))
    for result in (total, smallest, chain):
        result.raise_for_errors()
    print("map-reduce: sum of squares of 0..9 =", total.outputs.out)
    head = [int(line) for line in smallest.outputs.out.split()]
    print(f"files: the three smallest of {numbers} are {head}")
    c = chain.outputs
    print(f"chain: 0 -> {c.first} -> {c.second} -> {c.third}")


if __name__ == "__main__":
    main()
