"""Checksums: stable across processes and hash seeds; no stale hits (docs/design.md §4)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from plait import Submitter, compile, python, shell

HERE = Path(__file__).parent
CORE_SRC = HERE.parent.parent / "core" / "src"

CHECKSUM_SCRIPT = textwrap.dedent(
    """
    import plait
    from core_tasks import Add, Powers, Copy
    jobs = plait.compile(Add(b=2).split(a=[1, 2, 3]), cache_root="/nowhere").static_jobs("Add")
    print(*[j.checksum for j in jobs])
    wf = plait.compile(Powers(ps=[1, 2]), cache_root="/nowhere", inline=False)
    print(wf.static_jobs("Powers")[0].checksum)
    mixed = {{"b": {{1, 2, 3}}, "a": frozenset({{"x", "y"}}), "c": (1.5, None, "s")}}
    print(plait.hash_object(mixed))
    print(plait.compile(Copy(in_file={file!r}), cache_root="/x").static_jobs("Copy")[0].checksum)
    """
)


def test_checksums_equal_across_processes_and_hash_seeds(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    data = tmp_path / "data.txt"
    data.write_text("content")
    script = tmp_path / "sums.py"
    script.write_text(CHECKSUM_SCRIPT.format(file=str(data)))
    outputs = []
    for seed in ("0", "1", "12345"):
        env = {**subprocess_env, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0].split()) == 6


def _checksum(defn: object) -> str:
    graph = compile(defn, cache_root="/nowhere")  # type: ignore[arg-type]
    (jobs,) = [graph.static_jobs(n) for n in graph.nodes]
    assert jobs is not None
    return jobs[0].checksum


def test_module_constant_read_by_the_function_changes_the_checksum() -> None:
    namespace: dict[str, object] = {"SCALE": 2}
    exec(
        textwrap.dedent(
            """
            from plait import python
            @python.define
            def Scale(x: int) -> int:
                return x * SCALE
            """
        ),
        namespace,
    )
    Scale = namespace["Scale"]
    before = _checksum(Scale(x=1))  # type: ignore[operator]
    namespace["SCALE"] = 3
    assert _checksum(Scale(x=1)) != before  # type: ignore[operator]


def test_closure_value_changes_the_checksum() -> None:
    def make(offset: int) -> type:
        @python.define
        def Offset(x: int) -> int:
            return x + offset

        return Offset

    assert _checksum(make(1)(x=1)) != _checksum(make(2)(x=1))


def test_code_change_changes_the_checksum() -> None:
    @python.define(name="Same")
    def A(x: int) -> int:
        return x + 1

    @python.define(name="Same")
    def B(x: int) -> int:
        return x + 2

    assert _checksum(A(x=1)) != _checksum(B(x=1))


def test_command_template_is_part_of_the_checksum(tmp_path: Path) -> None:
    Plain = shell.define("echo <x:str>", name="Echo")
    Option = shell.define("echo --val <x:str>", name="Echo")
    assert _checksum(Plain(x="a")) != _checksum(Option(x="a"))
    cache = tmp_path / "c"
    assert Submitter(cache_root=cache)(Plain(x="a")).outputs.stdout == "a\n"
    assert Submitter(cache_root=cache)(Option(x="a")).outputs.stdout == "--val a\n"


def test_workflow_checksum_follows_the_code_of_its_tasks() -> None:
    from plait import workflow

    def make(step: int) -> type:
        @python.define(name="Step")
        def Step(x: int) -> int:
            return x + step

        @workflow.define(name="Wf")
        def Wf(x: int) -> int:
            return workflow.add(Step(x=x)).out

        return Wf

    def wf_sum(cls: type) -> str:
        g = compile(cls(x=1), cache_root="/nowhere", inline=False)
        return g.static_jobs("Wf")[0].checksum  # type: ignore[index]

    assert wf_sum(make(1)) != wf_sum(make(2))
    assert wf_sum(make(1)) == wf_sum(make(1))
