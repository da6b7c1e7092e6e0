"""A task raising in a module file: every worker's traceback names that file and line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from plait import Submitter

SOURCE = """\
from plait import python


def helper(y: int) -> int:
    raise ValueError(f"boom {y}")  # line 5


@python.define
def Boom(x: int) -> int:
    y = x + 1
    raise ValueError(f"boom {y}")  # line 11


@python.define
def BoomInHelper(x: int) -> int:
    return helper(x)
"""


def load_module(tmp_path: Path, name: str) -> ModuleType:
    """Write SOURCE as ``name.py`` under ``tmp_path`` and import it."""
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task, line", [("Boom", 11), ("BoomInHelper", 5)])
def test_traceback_names_the_task_file_and_line(
    tmp_path: Path, cache: Path, worker: str, task: str, line: int
) -> None:
    module = load_module(tmp_path, f"tb_{worker}_{task}")
    with Submitter(worker=worker, cache_root=cache) as sub:
        result = sub(getattr(module, task)(x=1))
    assert result.errored
    text = result.errors[0].traceback
    assert f'File "{module.__file__}", line {line}' in text, text
    assert "<dynamic-code>" not in text


SCRIPT = """\
import sys
import tempfile

from plait import Submitter, python


@python.define
def Boom(x: int) -> int:
    raise ValueError("boom")  # line 9


if __name__ == "__main__":
    with Submitter(worker=sys.argv[1], cache_root=tempfile.mkdtemp()) as sub:
        print(sub(Boom(x=1)).errors[0].traceback)
"""


def test_traceback_of_a_task_in_a_script(tmp_path: Path, worker: str) -> None:
    """A task defined in ``__main__`` travels by value: its file name must survive that."""
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), worker], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert f'File "{script}", line 9, in Boom' in proc.stdout, proc.stdout
    assert "<dynamic-code>" not in proc.stdout
