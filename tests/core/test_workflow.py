"""Workflows, nesting, failures, errors at construction and the compiled graph (issue 3)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cloudpickle
import pytest
from core_tasks import (
    VOXEL_SCRIPT,
    Add,
    FailOn,
    Outer,
    Powers,
    SplitPropagateCombine,
    Sum,
    TenToThePower,
    Voxel,
    calls,
    job_dirs,
)
from fileformats.generic import File

from plait import (
    GraphError,
    InputError,
    JobFailedError,
    StateError,
    Submitter,
    compile,
    python,
    workflow,
)

HERE = Path(__file__).parent
CORE_SRC = HERE.parent.parent / "core" / "src"


def test_split_on_cf_with_three_processes(cache: Path) -> None:
    out = TenToThePower().split(p=[1, 2, 3, 4, 5])(worker="cf", n_procs=3, cache_root=cache)
    assert out.out == [10, 100, 1000, 10000, 100000]


def test_shell_split_over_files_runs_reruns_and_reruns_only_the_changed_one(
    cache: Path, tmp_path: Path, worker: str
) -> None:
    files = []
    for i in range(10):
        f = tmp_path / f"in{i}.txt"
        f.write_text(f"file{i}")
        files.append(f)
    defn = Voxel(script=VOXEL_SCRIPT).split(
        ("in_file", "voxel"), in_file=files, voxel=list(range(10))
    )
    with Submitter(worker=worker, cache_root=cache) as sub:
        first = sub(defn)
    assert not first.errored
    texts = [Path(f.fspath).read_text() for f in first.outputs.out_file]
    assert texts == [f"file{i} {i}\n" for i in range(10)]
    dirs = job_dirs(cache)
    assert len(dirs) == 10

    with Submitter(worker=worker, cache_root=cache) as sub:
        again = sub(defn)
    assert [f.fspath for f in again.outputs.out_file] == [f.fspath for f in first.outputs.out_file]
    assert job_dirs(cache) == dirs

    files[4].write_text("changed")
    executed: list[str] = []
    from plait import TaskHooks

    hooks = TaskHooks(pre_run_task=lambda job: executed.append(job.label))
    with Submitter(worker=worker, cache_root=cache, hooks=hooks) as sub:
        third = sub(defn)
    assert executed == ["Voxel[in_file=in4.txt,voxel=4]"]
    assert len(job_dirs(cache)) == 11
    assert Path(third.outputs.out_file[4].fspath).read_text() == "changed 4\n"


def test_workflow_split_propagate_combine_reduce(cache: Path, worker: str) -> None:
    with Submitter(worker=worker, cache_root=cache) as sub:
        result = sub(SplitPropagateCombine(xs=[1, 2, 3], k=10))
    assert result.outputs.out == (2 + 3 + 4) * 10
    assert result.cache_dir is not None and result.cache_dir.name.startswith("workflow-")


def test_powers_example(cache: Path, worker: str) -> None:
    with (
        Submitter(worker=worker, n_procs=2, cache_root=cache)
        if worker == "cf"
        else Submitter(cache_root=cache) as sub
    ):
        result = sub(Powers(ps=[1, 2, 3]))
    assert result.outputs.powers == [10, 100, 1000]
    assert result.outputs.total == 1110


def test_workflow_nested_in_a_workflow(cache: Path, worker: str) -> None:
    with Submitter(worker=worker, cache_root=cache) as sub:
        result = sub(Outer(xs=[1, 2, 3], k=10))
    assert result.outputs.inner == 90
    assert result.outputs.total == 91


def test_whole_workflow_split_at_top_level(cache: Path, worker: str) -> None:
    defn = SplitPropagateCombine(k=2).split(xs=[[1, 2], [3], [4, 5, 6]])
    with Submitter(worker=worker, cache_root=cache) as sub:
        result = sub(defn)
    assert result.outputs.out == [(2 + 3) * 2, 4 * 2, (5 + 6 + 7) * 2]


def test_nested_split_workflow_node(cache: Path) -> None:
    @workflow.define
    def Many(groups: list[list[int]]) -> int:
        inner = workflow.add(SplitPropagateCombine(k=1).split(xs=groups).combine("xs"))
        return workflow.add(Sum(xs=inner.out)).out

    assert Many(groups=[[1], [2, 3]])(cache_root=cache).out == 2 + 3 + 4


def test_one_failing_element_of_100(cache: Path, call_log: Path, worker: str) -> None:
    @workflow.define(outputs=["each", "total"])
    def Pipeline(xs: list[int], bad: int) -> tuple[list[int], int]:
        f = workflow.add(FailOn(bad=bad).split(x=xs))
        a = workflow.add(Add(a=f.out, b=1))
        s = workflow.add(Sum(xs=workflow.add(Add(a=a.out, b=0).combine("FailOn.x"), name="G").out))
        return a.out, s.out

    xs = list(range(100))
    with Submitter(worker=worker, cache_root=cache) as sub:
        result = sub(Pipeline(xs=xs, bad=37))
    assert result.errored
    assert len(result.errors) == 1 and result.errors[0].job == "FailOn[x=37]"
    assert "Add[x=37]" in result.skipped and "G[x=37]" in result.skipped
    assert any(s.startswith("Sum") for s in result.skipped)
    assert result.outputs.each[37] is None
    assert result.outputs.each[:37] == list(range(1, 38))
    assert result.outputs.total is None
    # 99 FailOn + 99 Add + 99 G results kept
    assert len(job_dirs(cache)) == 99 * 3
    with pytest.raises(
        JobFailedError, match=r"(?s)1 job\(s\) failed.*FailOn\[x=37\].*bad element 37.*error.json"
    ):
        result.raise_for_errors()
    assert calls(call_log).count("FailOn:37") == 1

    call_log.unlink()
    executed: list[str] = []
    from plait import TaskHooks

    hooks = TaskHooks(pre_run_task=lambda job: executed.append(job.label))
    with Submitter(worker=worker, cache_root=cache, hooks=hooks) as sub:
        rerun = sub(Pipeline(xs=xs, bad=37))
    assert rerun.errored
    assert [c for c in calls(call_log) if c.startswith("FailOn")] == ["FailOn:37"]
    assert executed == ["Pipeline", "FailOn[x=37]"]


def test_partial_results_of_a_failed_split_at_top_level(cache: Path) -> None:
    result = Submitter(cache_root=cache)(FailOn(bad=2).split(x=[1, 2, 3]))
    assert result.outputs.out == [1, None, 3]
    assert result.errored


# -- errors at construction ------------------------------------------------------


def test_bad_splitter_names_node_and_field(cache: Path) -> None:
    with pytest.raises(StateError, match=r"Add: cannot split over 'c'"):
        Add().split("c", c=[1])
    with pytest.raises(StateError, match=r"Add: bad splitter"):
        Add().split(["a", ["b", ("a",)]], a=[1], b=[2])
    with pytest.raises(StateError, match=r"Add: bad splitter.*nested inside a scalar"):
        Add().split(("a", ["b"]), a=[1], b=[2])


def test_combine_of_an_unsplit_field(cache: Path) -> None:
    with pytest.raises(StateError, match=r"Add: cannot combine 'b': it is not split"):
        Add(b=1).split(a=[1, 2]).combine("b")

    @workflow.define
    def Wf(xs: list[int]) -> list[int]:
        a = workflow.add(Add(b=1).split(a=xs))
        return workflow.add(Add(a=a.out, b=2).combine("Nope.x"), name="B").out

    with pytest.raises(StateError, match=r"B: cannot combine 'Nope.x': it is not split"):
        Wf(xs=[1])(cache_root=cache)
    assert list(cache.iterdir()) == []


def test_unequal_scalar_lengths(cache: Path) -> None:
    with pytest.raises(StateError, match=r"Add: scalar splitter \('a', 'b'\).*a=2, b=1"):
        Add().split(("a", "b"), a=[1, 2], b=[1])(cache_root=cache)


def test_output_that_does_not_exist(cache: Path) -> None:
    @workflow.define
    def Wf(x: int) -> int:
        a = workflow.add(Add(a=x))
        return workflow.add(Add(a=a.nope), name="B").out

    with pytest.raises(GraphError, match=r"Add: no output 'nope' \(outputs: out\)"):
        Wf(x=1)(cache_root=cache)


def test_wrong_type_connection_names_both_ends(cache: Path) -> None:
    @python.define
    def NeedsFile(f: File) -> int:
        return 1

    @workflow.define
    def Wf(x: int) -> int:
        a = workflow.add(Add(a=x))
        return workflow.add(NeedsFile(f=a.out)).out

    with pytest.raises(
        InputError,
        match=r"NeedsFile.f: cannot connect Add.out \(int\) to an input of type generic/file",
    ):
        Wf(x=1)(cache_root=cache)


def test_scalar_splitter_with_inherited_axis_that_has_no_meaning(cache: Path) -> None:
    @workflow.define
    def Wf(xs: list[int], ys: list[int]) -> list[int]:
        a = workflow.add(Add().split(["a", "b"], a=xs, b=ys))
        return workflow.add(Add(a=a.out).split(("_Add", "b"), b=[1, 2]), name="B").out

    with pytest.raises(StateError, match=r"B: scalar splitter.*has no meaning.*2 axes"):
        Wf(xs=[1, 2], ys=[3])(cache_root=cache)

    @workflow.define
    def Wf2(xs: list[int]) -> list[int]:
        return workflow.add(Add(b=1).split(("_Nope", "a"), a=xs)).out

    with pytest.raises(StateError, match=r"Add: splitter refers to '_Nope'"):
        Wf2(xs=[1])(cache_root=cache)


def test_combining_an_axis_an_inner_split_depends_on(cache: Path) -> None:
    from core_tasks import Identity, Range

    @workflow.define
    def Wf(ns: list[int]) -> list[int]:
        r = workflow.add(Range().split(n=ns))
        return workflow.add(Identity().split(x=r.out).combine("Range.n")).out

    with pytest.raises(StateError, match=r"Identity: cannot combine Range.n while keeping"):
        Wf(ns=[1, 2])(cache_root=cache)


def test_duplicate_node_name_and_add_outside_a_workflow() -> None:
    @workflow.define
    def Wf(x: int) -> int:
        workflow.add(Add(a=x))
        return workflow.add(Add(a=x)).out

    with pytest.raises(GraphError, match=r"node named 'Add' already exists"):
        compile(Wf(x=1), cache_root="/nowhere")
    with pytest.raises(GraphError, match=r"inside a @workflow\.define"):
        workflow.add(Add(a=1))


def test_cycles_are_rejected() -> None:
    from plait.graph import Graph, Node
    from plait.state import NodeState

    a = Node("A", Add(a=1), ("B",), NodeState())
    b = Node("B", Add(a=1), ("A",), NodeState())
    with pytest.raises(GraphError, match="cycle in the workflow graph: A -> B -> A"):
        Graph("Cyclic", [a, b], {}, "/nowhere")


# -- the compiled graph --------------------------------------------------------------

RUN_PICKLED = textwrap.dedent(
    """
    import sys, pickle
    sys.path[:0] = [{tests!r}, {src!r}]
    import plait
    graph, jobs = pickle.loads(open(sys.argv[1], "rb").read())
    results = [plait.run_job(job) for job in jobs]
    out = graph.collect("TenToThePower", jobs, results)
    print(graph.outputs({{"TenToThePower": out}}))
    """
)


def test_graph_and_jobs_survive_cloudpickle_and_run_in_a_fresh_process(
    cache: Path, tmp_path: Path
) -> None:
    graph = compile(TenToThePower().split(p=[1, 2, 3]).combine("p"), cache_root=cache)
    jobs = graph.static_jobs("TenToThePower")
    assert jobs is not None
    blob = tmp_path / "graph.pkl"
    blob.write_bytes(cloudpickle.dumps((graph, jobs)))
    script = tmp_path / "run.py"
    script.write_text(RUN_PICKLED.format(tests=str(HERE), src=str(CORE_SRC)))
    proc = subprocess.run(
        [sys.executable, str(script), str(blob)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "7"},
        check=True,
    )
    assert proc.stdout.strip() == "{'out': [10, 100, 1000]}"
    assert job_dirs(cache) == {os.path.basename(j.cache_dir) for j in jobs}


def test_main_defined_tasks_run_on_cf(tmp_path: Path) -> None:
    script = tmp_path / "main_task.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(CORE_SRC)!r})
            from plait import python
            OFFSET = 5
            @python.define
            def Shift(x: int) -> int:
                return x + OFFSET
            print(Shift().split(x=[1, 2])(worker="cf", n_procs=2, cache_root=sys.argv[1]).out)
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "c")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[6, 7]"


def test_dynamic_jobs_need_upstream_outputs(cache: Path) -> None:
    graph = compile(Powers(ps=[1, 2]), cache_root=cache)
    assert graph.static_jobs("TenToThePower") is not None
    assert graph.static_jobs("Sum") is None
    assert list(graph.nodes) == ["TenToThePower", "Sum"]
    with pytest.raises(GraphError, match="upstream"):
        graph.jobs("Sum", {})


def test_progress_reports_every_job(cache: Path) -> None:
    events = []
    Submitter(cache_root=cache, progress=events.append)(TenToThePower().split(p=[1, 2]))
    assert [(e.status, e.label) for e in events] == [
        ("submitted", "TenToThePower[p=1]"),
        ("submitted", "TenToThePower[p=2]"),
        ("finished", "TenToThePower[p=1]"),
        ("finished", "TenToThePower[p=2]"),
    ]


def test_resources_declared_on_definition_or_node(cache: Path) -> None:
    from plait import Resources

    @python.define(cpus=2, memory="1GB")
    def Heavy(x: int) -> int:
        return x

    @workflow.define
    def Wf(x: int) -> int:
        a = workflow.add(Heavy(x=x))
        return workflow.add(Heavy(x=a.out), name="Bigger", memory="4GiB").out

    graph = compile(Wf(x=1), cache_root=cache)
    assert graph.nodes["Heavy"].resources == Resources(cpus=2, memory=1_000_000_000)
    assert graph.nodes["Bigger"].resources == Resources(memory=4 * 1024**3)
    jobs = graph.static_jobs("Heavy")
    assert jobs is not None and jobs[0].resources == Resources(cpus=2, memory="1GB")


def test_container_environments_build_the_command_line(cache: Path, tmp_path: Path) -> None:
    from core_tasks import Copy

    from plait.environments import Apptainer, Docker, Native

    src = tmp_path / "in.txt"
    src.write_text("x")
    task = Copy(in_file=src)
    args = task.command_args("/jobs/shell-1")
    assert Native().wrap(args, "/jobs/shell-1", task) == args
    docker = Docker("alpine:3").wrap(args, "/jobs/shell-1", task)
    assert docker[:5] == ["docker", "run", "--rm", "-w", "/jobs/shell-1"]
    assert ["-v", f"{tmp_path}:{tmp_path}"] == docker[docker.index(f"{tmp_path}:{tmp_path}") - 1 :][
        :2
    ]
    assert docker[-4:] == ["alpine:3", "cp", str(src), "/jobs/shell-1/out_file"]
    app = Apptainer("img.sif").wrap(args, "/jobs/shell-1", task)
    assert app[:4] == ["apptainer", "exec", "--pwd", "/jobs/shell-1"]
    assert "-B" in app and app[-4:] == ["img.sif", "cp", str(src), "/jobs/shell-1/out_file"]


def test_environment_is_used_to_run_shell_jobs(cache: Path, tmp_path: Path) -> None:
    import attrs as _attrs

    from plait import shell

    @_attrs.frozen
    class Prefixed:
        """Runs the command through `env` (a stand-in for a container runtime)."""

        def wrap(self, args: list[str], job_dir: str, task: object) -> list[str]:
            return ["env", "PLAIT_IN_ENV=yes", *args]

    Show = shell.define("sh -c <script:str>", name="Show")
    out = Submitter(cache_root=cache, environment=Prefixed())(Show(script="echo $PLAIT_IN_ENV"))
    assert out.outputs.stdout == "yes\n"
