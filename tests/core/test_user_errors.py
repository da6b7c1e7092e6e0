"""The errors users see for common mistakes (docs/design.md §7), each quoted as the user reads it."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest
from core_tasks import Add, TenToThePower

from plait import DefinitionError, GraphError, InputError, StateError, compile, shell, workflow

Echo = shell.define("echo <text:str>")


def test_unknown_keyword_lists_the_inputs_and_suggests_a_close_name() -> None:
    with pytest.raises(InputError) as err:
        Echo(txt="hi")  # type: ignore[call-arg]
    assert str(err.value) == (
        "Echo: no input named 'txt' (did you mean 'text'?); inputs: text (str)"
    )
    with pytest.raises(InputError) as err:
        Add(a=1, c=2, d=3)  # type: ignore[call-arg]
    assert str(err.value) == "Add: no inputs named 'c', 'd'; inputs: a (int), b (int = 0)"


def test_positional_arguments_are_refused_with_the_keyword_form() -> None:
    with pytest.raises(InputError) as err:
        TenToThePower(3)  # type: ignore[misc]
    assert str(err.value) == (
        "TenToThePower: inputs are given by keyword, e.g. TenToThePower(p=...); "
        "got 1 positional argument; inputs: p (int)"
    )


def test_reading_an_output_of_a_definition_says_to_wrap_it_in_workflow_add() -> None:
    @workflow.define
    def Forgot(x: int) -> int:
        return Add(a=x).out  # type: ignore[attr-defined,no-any-return]

    with pytest.raises(GraphError) as err:
        compile(Forgot(x=1), cache_root="/nowhere")
    assert str(err.value) == (
        "Add(a=1, b=0).out: a task definition has no outputs until it runs; "
        "inside a @workflow.define function add it as a node first: "
        "workflow.add(Add(...)).out; outside a workflow run it: Add(...)().out"
    )
    with pytest.raises(AttributeError, match=r"Add\(a=1, b=0\)\.out: a task definition has no"):
        Add(a=1).out  # type: ignore[attr-defined]  # noqa: B018
    assert getattr(Add(a=1), "nonexistent", None) is None


def test_unequal_scalar_lengths_fail_at_split() -> None:
    with pytest.raises(StateError) as err:
        Add().split(("a", "b"), a=[1, 2], b=[1, 2, 3])
    assert str(err.value) == "Add: scalar splitter ('a', 'b') needs equal lengths, got a=2, b=3"


def test_a_flag_is_tied_to_an_input_only_inside_brackets() -> None:
    Tool = shell.define(
        "tool -c <script:str> [-o <out:str?>] [--verbose <verbose:bool=False>] [-f <fs:str+?>]"
    )
    assert Tool(script="x").command_args("/j") == ["tool", "-c", "x"]
    assert Tool(script="x", out="y", verbose=True, fs=["a", "b"]).command_args("/j") == [
        "tool",
        "-c",
        "x",
        "-o",
        "y",
        "--verbose",
        "-f",
        "a",
        "b",
    ]
    assert Tool(script="x", fs=[]).command_args("/j") == ["tool", "-c", "x"]


def test_a_loose_flag_before_an_optional_input_is_refused() -> None:
    with pytest.raises(DefinitionError) as err:
        shell.define("gzip -c <level:int?> <in_file:generic/file>", name="Gz")
    assert str(err.value) == (
        "Gz: '-c' before the optional input 'level' would be passed even when 'level' is "
        "left out; write '[-c <level:...>]' to tie the flag to the input, or move '-c' "
        "elsewhere if it is an option of its own"
    )
    with pytest.raises(DefinitionError) as err:
        shell.define("tool [-o <out:str?> <more:str>", name="Tool")
    assert str(err.value) == (
        "Tool: bad option group at '[-o' in 'tool [-o <out:str?> <more:str>': "
        "write [FLAG <name:type>], e.g. [-o <out:str?>]"
    )


@pytest.mark.skipif(shutil.which("gzip") is None, reason="gzip is not installed")
def test_the_shell_modules_gzip_example_is_a_real_gzip_command(tmp_path: Path) -> None:
    import plait.shell

    line = next(ln for ln in plait.shell.__doc__.splitlines() if "Gzip = " in ln)  # type: ignore[union-attr]
    namespace: dict[str, object] = {"shell": shell}
    exec(line.strip(), namespace)
    Gzip = namespace["Gzip"]
    data = tmp_path / "data.txt"
    data.write_text("hello plait\n" * 100)
    task = Gzip(in_file=data, level=9)  # type: ignore[operator]
    assert task.command_args("/j") == ["gzip", "-c", "-9", str(data)]
    proc = subprocess.run(task.command_args(str(tmp_path)), capture_output=True, check=True)
    assert gzip.decompress(proc.stdout) == data.read_bytes()
    out = task(worker="debug", cache_root=tmp_path / "cache")
    assert gzip.decompress(out.stdout.encode("utf-8", "surrogateescape")) == data.read_bytes()
