"""Core v2 (issue 9): per-job release, exact labels, flattened nested workflows,
no import cycles, progress counts, and the errors of docs/design.md §7."""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path

import pytest
from conformance_tasks import AddThenDouble, NestedConnected

import plait
from plait import GraphError, Progress, StateError, Submitter, python, workflow
from plait.labels import parse_label, render_label

CORE = Path(plait.__file__).parent


# -- 4. no import cycles ---------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """Modules of the package ``path`` imports, anywhere but under ``if TYPE_CHECKING``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in modules else base)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m in modules and m != module}


def test_the_core_has_no_import_cycle() -> None:
    files = {_module_name(p): p for p in CORE.rglob("*.py")}
    graph = {m: _imports(p, m, set(files)) for m, p in files.items()}
    # a package's __init__ importing its own modules is how packages work; the cycle
    # that matters is a module importing back up the chain
    for m in graph:
        graph[m] = {d for d in graph[m] if not (m.startswith(d + ".") and d in files)} | (
            {d for d in graph[m] if m.startswith(d + ".")} - {m.rpartition(".")[0]}
        )
    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(" -> ".join([*path[path.index(d) :], d]))
            elif d not in state:
                visit(d, [*path, d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_import_walker_sees_function_level_imports() -> None:
    files = {_module_name(p): p for p in CORE.rglob("*.py")}
    # identity imports the definition module inside a function: it must be seen
    assert "plait.definition" in _imports(files["plait.identity"], "plait.identity", set(files))


# -- 2. per-job release ------------------------------------------------------------------
@python.define
def WaitForOthers(x: int, marker_dir: str) -> int:
    """x=0 waits (bounded) until B has finished for every other element."""
    if x == 0:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(os.listdir(marker_dir)) < 7:
            time.sleep(0.05)
    return x


@python.define
def MarkDone(y: int, marker_dir: str) -> int:
    """Record that B ran for y."""
    Path(marker_dir, f"B-{y}").write_text("")
    return y * 10


@workflow.define
def Pipeline(xs: list[int], marker_dir: str) -> list[int]:
    a = workflow.add(WaitForOthers(marker_dir=marker_dir).split(x=xs), name="A")
    return workflow.add(MarkDone(y=a.out, marker_dir=marker_dir), name="B").out


@pytest.mark.timeout(180)
def test_downstream_jobs_run_as_soon_as_their_own_input_exists(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    events: list[Progress] = []
    with Submitter(
        worker="cf", n_procs=4, cache_root=tmp_path / "c", progress=events.append
    ) as sub:
        result = sub(Pipeline(xs=list(range(8)), marker_dir=str(markers)))
    assert result.outputs.out == [x * 10 for x in range(8)]
    finished = [e.label for e in events if e.status == "finished"]
    slow = finished.index("A[x=0]")
    for x in range(1, 8):
        assert finished.index(f"B[x={x}]") < slow, finished


# -- 3. exact labels ------------------------------------------------------------------------
@python.define
def FailOnOdd(b: str) -> str:
    if b.startswith("x,"):
        raise ValueError("odd one")
    return b


@python.define
def Upper(s: str) -> str:
    return s.upper()


@workflow.define
def LabelledFailure(bs: list[str]) -> list[str]:
    up = workflow.add(FailOnOdd().split(b=bs), name="Pair")
    return workflow.add(Upper(s=up.out), name="Up").out


def test_labels_name_a_failing_element_exactly(tmp_path: Path) -> None:
    bad = "x,y][\"q'"
    with Submitter(cache_root=tmp_path) as sub:
        result = sub(LabelledFailure(bs=[bad, "fine"]))
    assert [e.job for e in result.errors] == [render_label("Pair", (("b", bad),))]
    assert parse_label(result.errors[0].job) == ("Pair", (("b", bad),))
    assert result.skipped == (render_label("Up", (("b", bad),)),)
    assert result.outputs.out == [None, "FINE"]


# -- 5. nested workflows are flattened into the host's graph -------------------------------
def test_a_nested_workflow_becomes_nodes_of_the_parent_graph(tmp_path: Path) -> None:
    graph = plait.compile(NestedConnected(xs=[1, 2]), cache_root=tmp_path)
    assert list(graph.nodes) == ["Square", "Inner.Add", "Inner.Mul", "Identity", "Sum"]
    assert graph.groups == {"Inner": ["Inner.Add", "Inner.Mul"]}
    assert graph.nodes["Inner.Add"].upstream == ("Square",)
    with Submitter(cache_root=tmp_path) as sub:
        result = sub(NestedConnected(xs=[1, 2, 3]))
    assert result.outputs.each == [4, 10, 20]
    assert result.outputs.total == 34


@workflow.define
def NeedsValues(n: int) -> list[int]:
    """A constructor that computes with its input: it cannot be flattened over a connection."""
    return workflow.add(
        plait.python.define(lambda x: x, name="Ident")().split(x=list(range(n)))
    ).out


@python.define
def Three() -> int:
    return 3


@workflow.define
def UsesNeedsValues() -> list[int]:
    t = workflow.add(Three())
    return workflow.add(NeedsValues(n=t.out)).out


def test_a_nested_workflow_that_needs_values_stays_one_node(tmp_path: Path) -> None:
    graph = plait.compile(UsesNeedsValues(), cache_root=tmp_path)
    assert list(graph.nodes) == ["Three", "NeedsValues"]
    assert graph.nodes["NeedsValues"].kind == "workflow"
    with Submitter(cache_root=tmp_path) as sub:
        assert sub(UsesNeedsValues()).outputs.out == [0, 1, 2]


def test_run_job_is_a_leaf_for_workflow_jobs(tmp_path: Path) -> None:
    graph = plait.compile(AddThenDouble(x=1).split(x=[1, 2]), cache_root=tmp_path)
    job = graph.static_jobs("AddThenDouble")[0]  # type: ignore[index]
    with pytest.raises(GraphError, match="not run by run_job"):
        plait.run_job(job)
    assert plait.run_workflow_job(job).outputs == {"out": 4}


# -- progress and Result.cached ----------------------------------------------------------
@python.define
def MaybeFail(x: int) -> int:
    if x == 2:
        raise RuntimeError("two")
    return x


@python.define
def Inc(v: int) -> int:
    return v + 1


@workflow.define
def Counted(xs: list[int]) -> list[int]:
    a = workflow.add(MaybeFail().split(x=xs))
    return workflow.add(Inc(v=a.out)).out


@pytest.mark.parametrize("worker", ["debug", "cf"])
def test_progress_counts_add_up_with_cache_hits_and_failures(tmp_path: Path, worker: str) -> None:
    with Submitter(worker=worker, cache_root=tmp_path) as sub:
        sub(MaybeFail().split(x=[0, 1]))  # fill part of the cache
    events: list[Progress] = []
    with Submitter(worker=worker, cache_root=tmp_path, progress=events.append) as sub:
        result = sub(Counted(xs=[0, 1, 2, 3]))
    assert result.errored
    last = events[-1]
    # the workflow job, 4 MaybeFail, 3 Inc and 1 skipped Inc
    assert last.done == last.total == 9
    assert (last.cached, last.failed, last.skipped) == (2, 2, 1)  # the workflow failed too
    dones = [e.done for e in events if e.status != "submitted"]
    assert dones == list(range(1, 10))


def test_result_cached_is_true_on_a_full_cache_hit(tmp_path: Path) -> None:
    with Submitter(cache_root=tmp_path) as sub:
        first = sub(NestedConnected(xs=[1, 2]))
        again = sub(NestedConnected(xs=[1, 2]))
        split = sub(Upper().split(s=["a", "b"]))
        split_again = sub(Upper().split(s=["a", "b"]))
    assert (first.cached, again.cached) == (False, True)
    assert (split.cached, split_again.cached) == (False, True)


# -- errors of §7 --------------------------------------------------------------------------
def test_combining_an_inherited_field_by_its_bare_name_suggests_node_field() -> None:
    @workflow.define
    def Wrong(xs: list[int]) -> list[int]:
        a = workflow.add(MaybeFail().split(x=xs))
        return workflow.add(Inc(v=a.out).combine("x")).out

    with pytest.raises(StateError) as info:
        Wrong(xs=[1, 2])(cache_root="/nowhere")
    assert str(info.value) == (
        "Inc: cannot combine 'x': the task is not split; to combine an axis inherited "
        "from an upstream node, name it '<Node>.x' (e.g. combine('MaybeFail.x'))"
    )


def test_static_state_is_the_state_the_expanded_jobs_get(tmp_path: Path) -> None:
    defn = NestedConnected(xs=[3, 4])
    graph = plait.compile(defn, cache_root=tmp_path)
    square = plait.run_node(graph, "Square", {})
    jobs = graph.jobs("Inner.Add", {"Square": square})
    assert [graph.static_state("Inner.Add", j.index) for j in jobs] == [j.state for j in jobs]
    assert graph.static_state("Inner.Add", (1,)) == (("x", "4"),)


@python.define(outputs=["name", "size"])
def Describe(x: int) -> tuple[str, int]:
    return f"item{x}", x


@python.define
def Shout(s: str) -> str:
    return s.upper()


@workflow.define
def UsesNameOutput(x: int) -> str:
    d = workflow.add(Describe(x=x))
    return workflow.add(Shout(s=d.name)).out


def test_an_output_called_name_can_be_connected(tmp_path: Path) -> None:
    with Submitter(cache_root=tmp_path) as sub:
        assert sub(UsesNameOutput(x=3)).outputs.out == "ITEM3"
