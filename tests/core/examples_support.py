"""Run an example script and read the output its docstring promises (``Expected output::``)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples"


def expected_output(script: Path) -> list[str]:
    """The indented lines after ``Expected output...::`` in the script's docstring."""
    doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    lines = doc.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Expected output"))
    block: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("    "):
            block.append(line[4:])
        elif block and line.strip():
            break
    return block


def run_example(name: str, *args: str, cache: Path, timeout: float = 300) -> list[str]:
    """Run ``examples/<name>`` with this interpreter; its stdout lines (fails on an error)."""
    env = {**os.environ, "PLAIT_CACHE_ROOT": str(cache)}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()
