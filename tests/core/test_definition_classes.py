"""Definition classes are real, importable classes: module, qualified name, pickling (issue 9)."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import cloudpickle
import core_tasks
import pytest
from core_tasks import Add, Copy, DivMod, Powers

import plait
from plait import python, shell


def test_classes_carry_the_module_and_qualified_name_they_are_bound_to() -> None:
    for cls, name in [(Add, "Add"), (Copy, "Copy"), (Powers, "Powers"), (DivMod, "DivMod")]:
        assert cls.__module__ == "core_tasks"
        assert cls.__qualname__ == name
        assert getattr(core_tasks, name) is cls
        outputs = cls._outputs_class
        assert outputs.__module__ == "core_tasks"
        assert outputs.__qualname__ == f"{name}._outputs_class"


def test_a_job_of_a_module_level_task_pickles_by_reference(tmp_path: Path) -> None:
    jobs = plait.compile(Add(b=2).split(a=[1, 2]), cache_root=tmp_path).static_jobs("Add")
    assert jobs is not None
    job = jobs[0]
    assert pickle.loads(pickle.dumps(job)) == job
    assert len(cloudpickle.dumps(job)) <= 1024
    outputs = Add._outputs_class(out=3)
    assert pickle.loads(pickle.dumps(outputs)) == outputs


def test_a_shell_job_pickles_by_reference(tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_text("x")
    jobs = plait.compile(Copy(in_file=data), cache_root=tmp_path / "c").static_jobs("Copy")
    assert jobs is not None
    assert pickle.loads(pickle.dumps(jobs[0])) == jobs[0]
    assert len(cloudpickle.dumps(jobs[0])) <= 1024


def test_shell_class_name_is_the_assigned_name_or_name_argument() -> None:
    Copy2 = shell.define("cp <a:str> <b:str>")
    assert Copy2.__name__ == "Copy2"
    assert Copy2.__qualname__.endswith("<locals>.Copy2")
    Named = shell.define("cp <a:str> <b:str>", name="CopyFile")
    assert Named.__name__ == "CopyFile"
    # not assigned to a name: the executable's name in CamelCase
    assert shell.define("gzip-tool -c <a:str>").__name__ == "GzipTool"


def test_python_define_name_renames_the_class_but_keeps_it_importable(tmp_path: Path) -> None:
    @python.define(name="Renamed")
    def f(x: int) -> int:
        return x

    assert f.__name__ == "Renamed"
    assert f.__qualname__.endswith("<locals>.f")
    assert repr(f(x=1)) == "Renamed(x=1)"


def test_tasks_defined_in_main_still_run_on_cf(tmp_path: Path) -> None:
    script = tmp_path / "main_tasks.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from plait import python, shell
            OFFSET = 5

            @python.define
            def Shift(x: int) -> int:
                return x + OFFSET

            Echo = shell.define("echo <text:str>")
            if __name__ == "__main__":
                print(Shift().split(x=[1, 2])(worker="cf", n_procs=2, cache_root=sys.argv[1]).out)
                out = Echo().split(text=["a", "b"])(worker="cf", n_procs=2, cache_root=sys.argv[1])
                print(out.stdout)
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "c")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["[6, 7]", "['a\\n', 'b\\n']"]


def test_identity_parts_are_a_method_of_the_definition_kind() -> None:
    from plait.definition import TaskDef, make_definition_class
    from plait.identity import definition_identity

    class Custom(TaskDef):
        _kind = "custom"
        version = 1

        @classmethod
        def _identity_parts(cls) -> tuple[object, ...]:
            return (cls.version,)

    one = make_definition_class("One", Custom, {}, {}, module=__name__, doc=None)
    two = make_definition_class(
        "One", Custom, {}, {}, module=__name__, doc=None, namespace={"version": 2}
    )
    assert definition_identity(one) != definition_identity(two)
    assert Copy._identity_parts() == (Copy._template,)

    class NoParts(TaskDef):
        _kind = "incomplete"

    bare = make_definition_class("Bare", NoParts, {}, {}, module=__name__, doc=None)
    with pytest.raises(NotImplementedError, match="Bare: a definition kind must define"):
        definition_identity(bare)
