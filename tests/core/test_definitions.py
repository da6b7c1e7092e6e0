"""Task definitions: inputs, outputs, type checks and the errors users see (docs/design.md §2, §7)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from core_tasks import Copy, DivMod, TenToThePower
from fileformats.generic import File

from plait import InputError, StateError, python, shell
from plait.fields import MISSING


def test_python_define_reads_inputs_outputs_and_help() -> None:
    fields = TenToThePower._inputs
    assert list(fields) == ["p"]
    assert fields["p"].type is int
    assert fields["p"].help == "the exponent"
    assert list(TenToThePower._outputs) == ["out"]
    assert list(DivMod._outputs) == ["quotient", "remainder"]
    assert DivMod._outputs["quotient"].type is int


def test_define_with_and_without_arguments() -> None:
    @python.define
    def Bare(x: int = 2) -> int:
        return x

    @python.define(outputs=["a", "b"])
    def Pair(x: int) -> tuple[int, str]:
        return x, str(x)

    assert Bare().x == 2
    assert Pair._outputs["b"].type is str


def test_instances_are_immutable_values_with_readable_repr() -> None:
    t = TenToThePower(p=3)
    assert t == TenToThePower(p=3)
    assert repr(t) == "TenToThePower(p=3)"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.p = 4  # type: ignore[misc]


def test_wrong_type_fails_at_creation_naming_task_field_and_types() -> None:
    with pytest.raises(InputError) as err:
        TenToThePower(p="3")
    assert "TenToThePower.p" in str(err.value)
    assert "expected int" in str(err.value)
    assert "str" in str(err.value)


def test_unknown_field_fails_at_creation() -> None:
    with pytest.raises(InputError, match="TenToThePower: no input named 'nope'; inputs: p"):
        TenToThePower(nope=3)  # type: ignore[call-arg]


def test_safe_coercions(tmp_path: Path) -> None:
    @python.define
    def F(x: float, f: File, xs: list[float]) -> float:
        return x

    path = tmp_path / "a.txt"
    path.write_text("a")
    t = F(x=1, f=str(path), xs=(1, 2))
    assert isinstance(t.x, float) and t.x == 1.0
    assert isinstance(t.f, File)
    assert t.xs == [1.0, 2.0]
    with pytest.raises(InputError, match=r"F\.f"):
        F(x=1, f=tmp_path / "missing.txt", xs=[])


def test_missing_mandatory_input_fails_before_running(cache: Path) -> None:
    with pytest.raises(InputError, match=r"TenToThePower.*missing mandatory.*p"):
        TenToThePower()(cache_root=cache)
    assert list(cache.iterdir()) == []


def test_split_values_are_checked_element_by_element(cache: Path) -> None:
    with pytest.raises(InputError, match=r"TenToThePower.p\[1\]"):
        TenToThePower().split(p=[1, "x"])
    with pytest.raises(StateError, match="must be a list"):
        TenToThePower().split(p=3)
    assert list(cache.iterdir()) == []


def test_shell_template_parses_positional_options_flags_lists_and_outputs(tmp_path: Path) -> None:
    Tool = shell.define(
        "tool <in_file:generic/file> -o <out|out_file:generic/file> -n <n:int=1> "
        "[--verbose <verbose:bool=False>] [--tag <tag:str?>] <more:generic/file+>",
        name="Tool",
    )
    assert set(Tool._inputs) == {"in_file", "out_file", "n", "verbose", "tag", "more"}
    assert set(Tool._outputs) == {"out_file", "stdout", "stderr", "return_code"}
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("a")
    b.write_text("b")
    t = Tool(in_file=a, more=[a, b], verbose=True)
    args = t.command_args("/job")
    assert args == [
        "tool",
        str(a),
        "-o",
        "/job/out_file",
        "-n",
        "1",
        "--verbose",
        str(a),
        str(b),
    ]
    t2 = Tool(in_file=a, more=[b], tag="x", out_file="{in_file}_res")
    assert t2.command_args("/j")[2:4] == ["-o", "/j/a_res"]
    assert "--tag" in t2.command_args("/j") and "--verbose" not in t2.command_args("/j")
    assert Tool._inputs["tag"].default is None
    assert Tool._inputs["in_file"].default is MISSING


def test_shell_runs_argument_list_never_a_shell(cache: Path, tmp_path: Path) -> None:
    Echo = shell.define("echo <text:str>")
    out = Echo(text="x; touch pwned")(cache_root=cache)
    assert out.stdout == "x; touch pwned\n"
    assert out.return_code == 0
    assert not list(cache.glob("*/pwned")) and not (Path.cwd() / "pwned").exists()


def test_shell_nonzero_exit_shows_command_and_stderr(cache: Path) -> None:
    Fail = shell.define("sh -c <script:str>", name="Fail")
    result_err = None
    from plait import JobFailedError

    with pytest.raises(JobFailedError) as err:
        Fail(script="echo boom >&2; exit 3")(cache_root=cache)
    result_err = str(err.value)
    assert "exited with 3" in result_err
    assert "sh -c 'echo boom >&2; exit 3'" in result_err
    assert "boom" in result_err


def test_shell_copy_creates_output_file_in_job_dir(cache: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("hello")
    out = Copy(in_file=src)(cache_root=cache)
    assert isinstance(out.out_file, File)
    assert Path(out.out_file.fspath).read_text() == "hello"
    assert Path(out.out_file.fspath).parent.parent == cache


def test_bad_template_and_unknown_type() -> None:
    from plait import DefinitionError

    with pytest.raises(DefinitionError, match="unknown type"):
        shell.define("tool <x:nonsense>")
    with pytest.raises(DefinitionError, match="twice"):
        shell.define("tool <x:int> <x:int>")


def test_files_returned_from_outside_the_job_dir_are_kept_in_the_cache(
    cache: Path, tmp_path: Path
) -> None:
    @python.define
    def Make(text: str, where: str) -> File:
        path = Path(where) / "made.txt"
        path.write_text(text)
        return File(path)

    outside = tmp_path / "scratch"
    outside.mkdir()
    result = Make(text="hi", where=str(outside))(cache_root=cache)
    made = Path(result.out.fspath)
    assert made.parent.parent == cache and made.read_text() == "hi"
    (outside / "made.txt").unlink()
    again = Make(text="hi", where=str(outside))(cache_root=cache)
    assert Path(again.out.fspath).read_text() == "hi"
