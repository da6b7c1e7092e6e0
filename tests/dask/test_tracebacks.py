"""A task raising in a module file on a LocalCluster: the traceback names that file and line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from plait import Submitter

_spec = importlib.util.spec_from_file_location(
    "core_test_tracebacks", Path(__file__).parents[1] / "core" / "test_tracebacks.py"
)
assert _spec is not None and _spec.loader is not None
core_tb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(core_tb)


@pytest.mark.parametrize("task, line", [("Boom", 11), ("BoomInHelper", 5)])
def test_traceback_names_the_task_file_and_line_on_dask(
    tmp_path: Path, cache: Path, client: object, task: str, line: int
) -> None:
    module = core_tb.load_module(tmp_path, f"tb_dask_{task}")
    # Like a user's package, the module is importable on the workers (its helper
    # function travels by reference); the task class itself travels by value.
    client.run(exec, f"import sys; sys.path.insert(0, {str(tmp_path)!r})")  # type: ignore[attr-defined]
    with Submitter(worker="dask", client=client, cache_root=cache) as sub:
        result = sub(getattr(module, task)(x=1))
    assert result.errored
    text = result.errors[0].traceback
    assert f'File "{module.__file__}", line {line}' in text, text
    assert "<dynamic-code>" not in text


SCRIPT = """\
import tempfile

from distributed import Client, LocalCluster

from plait import Submitter, python


@python.define
def Boom(x: int) -> int:
    raise ValueError("boom")  # line 10


if __name__ == "__main__":
    with LocalCluster(n_workers=1, processes=True, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            with Submitter(worker="dask", client=client, cache_root=tempfile.mkdtemp()) as sub:
                print(sub(Boom(x=1)).errors[0].traceback)
"""


def test_traceback_of_a_task_in_a_script_on_dask(tmp_path: Path) -> None:
    """A task defined in ``__main__`` travels by value: its file name must survive that."""
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'File "{script}", line 10, in Boom' in proc.stdout, proc.stdout
    assert "<dynamic-code>" not in proc.stdout
