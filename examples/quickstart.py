"""plait quickstart: typed tasks, a shell tool, split/combine and a workflow, cached.

Run it twice: the second run is served from the cache (the default cache root
is ``$PLAIT_CACHE_ROOT``, else your user cache directory, ``~/.cache/plait/jobs``
on Linux; ``--cache-root DIR`` picks another).

    python examples/quickstart.py [--worker cf] [--cache-root DIR]

Expected output (the last line says "computed" on the first run and "served
from the cache" on the next ones)::

    powers: [10, 100, 1000]
    total:  1110
    lines:  2
    split:   [10000, 100000]
    computed; stored in <cache root>/workflow-<checksum>
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fileformats.generic import File

from plait import Submitter, python, shell, workflow


@python.define
def TenToThePower(p: int) -> int:
    """Ten to the power ``p``."""
    return 10**p


@python.define
def Sum(xs: list[int]) -> int:
    """The sum of ``xs``."""
    return sum(xs)


@python.define
def WriteReport(total: int, powers: list[int]) -> File:
    """Write a small text report and return it as a file (plait keeps a copy in its cache)."""
    path = Path(tempfile.mkdtemp()) / "report.txt"
    path.write_text(f"powers: {powers}\ntotal: {total}\n")
    return File(path)


# A command-line tool: `wc -l <file>` counts the report's lines.
CountLines = shell.define("wc -l <in_file:generic/file>", name="CountLines")


@workflow.define(outputs=["powers", "total", "lines"])
def Powers(ps: list[int]) -> tuple[list[int], int, str]:
    """10**p for every p (one job each), their sum, and a report about them."""
    pw = workflow.add(TenToThePower().split(p=ps).combine("p"))
    total = workflow.add(Sum(xs=pw.out))
    report = workflow.add(WriteReport(total=total.out, powers=pw.out))
    lines = workflow.add(CountLines(in_file=report.out))
    return pw.out, total.out, lines.stdout


def main() -> None:
    """Run the quickstart workflow and print its outputs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", default="debug", help="debug (default) or cf")
    parser.add_argument(
        "--cache-root", default=None, help="default: $PLAIT_CACHE_ROOT or the user cache"
    )
    args = parser.parse_args()
    cache_root = args.cache_root

    with Submitter(worker=args.worker, cache_root=cache_root) as sub:
        result = sub(Powers(ps=[1, 2, 3]))
    result.raise_for_errors()
    print("powers:", result.outputs.powers)
    print("total: ", result.outputs.total)
    print("lines: ", result.outputs.lines.split()[0])

    # A single task, split over its input, called directly: outputs come back.
    print("split:  ", TenToThePower().split(p=[4, 5])(cache_root=cache_root).out)

    how = "served from the cache" if result.cached else "computed"
    print(f"{how}; stored in {result.cache_dir}")


if __name__ == "__main__":
    main()
