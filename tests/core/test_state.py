"""Split/combine semantics: every row of the docs/design.md §3 table, with values and shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_tasks import Add, Identity, Range, Sum

from plait import InputError, StateError, Submitter, python, workflow


@python.define
def Pair(a: int, b: str = "", c: int = 0) -> str:
    """Formats its inputs."""
    return f"{a}{b}{c}"


@python.define
def Length(x: list[int]) -> int:
    """len(x)."""
    return len(x)


def run(defn: object, cache: Path, worker: str = "debug") -> object:
    with Submitter(worker=worker, cache_root=cache) as sub:
        result = sub(defn)  # type: ignore[arg-type]
    result.raise_for_errors()
    return result.outputs


def test_single_field_split_gives_flat_list(cache: Path, worker: str) -> None:
    assert run(Add(b=1).split(a=[1, 2, 3]), cache, worker).out == [2, 3, 4]


def test_outer_split_is_a_slowest(cache: Path) -> None:
    expected = ["1x0", "1y0", "2x0", "2y0", "3x0", "3y0"]
    assert run(Pair().split(["a", "b"], a=[1, 2, 3], b=["x", "y"]), cache).out == expected
    assert run(Pair().split(a=[1, 2, 3], b=["x", "y"]), cache).out == expected


def test_scalar_split_zips_and_rejects_unequal_lengths(cache: Path) -> None:
    assert run(Pair().split(("a", "b"), a=[1, 2], b=["x", "y"]), cache).out == ["1x0", "2y0"]
    with pytest.raises(StateError, match=r"Pair: scalar splitter.*a=2, b=3"):
        Pair().split(("a", "b"), a=[1, 2], b=["x", "y", "z"])(cache_root=cache)


def test_nested_outer_of_scalar(cache: Path) -> None:
    out = run(Pair().split(["a", ("b", "c")], a=[1, 2], b=["x", "y"], c=[7, 8]), cache).out
    assert out == ["1x7", "1y8", "2x7", "2y8"]


def test_combine_one_of_two_outer_axes_groups_per_remaining_element(cache: Path) -> None:
    defn = Pair().split(["a", "b"], a=[1, 2, 3], b=["x", "y"]).combine("a")
    assert run(defn, cache).out == [["1x0", "2x0", "3x0"], ["1y0", "2y0", "3y0"]]


def test_combine_both_axes_gives_one_flat_list(cache: Path) -> None:
    defn = Pair().split(["a", "b"], a=[1, 2], b=["x", "y"]).combine(["a", "b"])
    assert run(defn, cache).out == ["1x0", "1y0", "2x0", "2y0"]


def test_combine_of_a_scalar_field_removes_the_whole_zipped_axis(cache: Path) -> None:
    defn = Pair().split(["c", ("a", "b")], a=[1, 2], b=["x", "y"], c=[5, 6]).combine("a")
    assert run(defn, cache).out == [["1x5", "2y5"], ["1x6", "2y6"]]


def test_split_of_a_list_of_lists_splits_the_outermost_level(cache: Path) -> None:
    assert run(Length().split(x=[[1, 2], [3, 4, 5]]), cache).out == [2, 3]


@workflow.define
def Propagated(xs: list[int]) -> list[int]:
    a = workflow.add(Add(b=10).split(a=xs))
    b = workflow.add(Add(a=a.out, b=100), name="Second")
    return b.out


def test_node_fed_by_split_upstream_runs_per_element(cache: Path, worker: str) -> None:
    assert run(Propagated(xs=[1, 2, 3]), cache, worker).out == [111, 112, 113]


@workflow.define
def InheritedThenOwn(xs: list[int], bs: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(b=bs), name="Second")
    return b.out


def test_own_split_on_inherited_state_is_outer_inherited_slowest(cache: Path) -> None:
    out = run(InheritedThenOwn(xs=[1, 2], bs=[10, 20, 30]), cache).out
    assert out == [11, 21, 31, 12, 22, 32]


@workflow.define
def SplitOverUpstreamLists(ns: list[int]) -> list[list[int]]:
    r = workflow.add(Range().split(n=ns))
    ident = workflow.add(Identity().split(x=r.out).combine("x"))
    return ident.out


def test_split_over_upstream_lists_adds_a_nested_axis(cache: Path) -> None:
    # Range[n] gives a list per element; Identity splits each list (inner axis)
    # and combines it back: one list per upstream element.
    assert run(SplitOverUpstreamLists(ns=[2, 3]), cache).out == [[0, 1], [0, 1, 2]]


@workflow.define
def SplitOverUpstreamFlat(ns: list[int]) -> list[int]:
    r = workflow.add(Range().split(n=ns))
    ident = workflow.add(Identity().split(x=r.out))
    return ident.out


def test_uncombined_nested_axis_flattens_at_the_output(cache: Path) -> None:
    assert run(SplitOverUpstreamFlat(ns=[2, 3]), cache).out == [0, 1, 0, 1, 2]


@workflow.define(outputs=["grouped", "summed"])
def CombineInherited(xs: list[int]) -> tuple[list[int], int]:
    a = workflow.add(Add(b=1).split(a=xs))
    b = workflow.add(Add(a=a.out, b=1).combine("Add.a"), name="Second")
    s = workflow.add(Sum(xs=b.out))
    return b.out, s.out


def test_combine_of_an_inherited_axis(cache: Path, worker: str) -> None:
    out = run(CombineInherited(xs=[1, 2, 3]), cache, worker)
    assert out.grouped == [3, 4, 5]
    assert out.summed == 12


@workflow.define
def CombineInheritedKeepOwn(xs: list[int], bs: list[int]) -> list[list[int]]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(b=bs).combine("Add.a"), name="Second")
    return b.out


def test_combine_inherited_keeps_own_axis(cache: Path) -> None:
    out = run(CombineInheritedKeepOwn(xs=[1, 2], bs=[10, 20, 30]), cache).out
    assert out == [[11, 12], [21, 22], [31, 32]]


@workflow.define
def Uncombined(xs: list[int], bs: list[int]) -> list[str]:
    a = workflow.add(Pair().split(["a", "c"], a=xs, c=bs))
    return a.out


def test_uncombined_at_the_workflow_output_is_flattened(cache: Path) -> None:
    assert run(Uncombined(xs=[1, 2], bs=[3, 4]), cache).out == ["13", "14", "23", "24"]


@workflow.define
def TwoUpstreamsSameAxis(xs: list[int]) -> list[int]:
    a = workflow.add(Add(b=1).split(a=xs))
    b = workflow.add(Add(a=a.out, b=2), name="B")
    c = workflow.add(Add(a=a.out, b=b.out), name="C")
    return c.out


def test_nodes_sharing_an_upstream_axis_are_aligned_not_crossed(cache: Path) -> None:
    # C reads A and B, both over A's axis: one job per element, not 3x3
    assert run(TwoUpstreamsSameAxis(xs=[1, 2, 3]), cache).out == [2 + 4, 3 + 5, 4 + 6]


@workflow.define
def TwoIndependentUpstreams(xs: list[int], ys: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs), name="A")
    b = workflow.add(Add(b=0).split(a=ys), name="B")
    c = workflow.add(Add(a=a.out, b=b.out), name="C")
    return c.out


def test_independent_upstream_axes_give_their_outer_product(cache: Path) -> None:
    assert run(TwoIndependentUpstreams(xs=[1, 2], ys=[10, 20]), cache).out == [11, 21, 12, 22]


@workflow.define
def ZipWithInherited(xs: list[int], bs: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(("_Add", "b"), b=bs), name="Second")
    return b.out


def test_scalar_splitter_zips_own_field_with_a_single_inherited_axis(cache: Path) -> None:
    assert run(ZipWithInherited(xs=[1, 2, 3], bs=[10, 20, 30]), cache).out == [11, 22, 33]


def test_labels_show_the_state(cache: Path) -> None:
    from plait import compile

    graph = compile(Pair().split(["a", "b"], a=[1, 2], b=["x", "y"]), cache_root=cache)
    jobs = graph.static_jobs("Pair")
    assert jobs is not None
    assert [j.label for j in jobs] == [
        "Pair[a=1,b=x]",
        "Pair[a=1,b=y]",
        "Pair[a=2,b=x]",
        "Pair[a=2,b=y]",
    ]
    long = compile(Identity().split(x=["y" * 100]), cache_root=cache).static_jobs("Identity")
    assert long is not None and len(long[0].label) < 50


def test_empty_split_combined_gives_empty_list(cache: Path) -> None:
    assert run(Add(b=1).split(a=[]).combine("a"), cache).out == []
    assert run(Add(b=1).split(a=[]), cache).out == []


@workflow.define
def ExplicitInheritedFirst(xs: list[int], bs: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(["_Add", "b"], b=bs), name="Second")
    return b.out


def test_pydra_explicit_inherited_first_splitter(cache: Path) -> None:
    out = run(ExplicitInheritedFirst(xs=[1, 2], bs=[10, 20, 30]), cache).out
    assert out == [11, 21, 31, 12, 22, 32]


def test_inherited_axes_cannot_be_placed_after_own_ones(cache: Path) -> None:
    @workflow.define
    def Wf(xs: list[int], bs: list[int]) -> list[int]:
        a = workflow.add(Add(b=0).split(a=xs))
        return workflow.add(Add(a=a.out).split(["b", "_Add"], b=bs), name="B").out

    with pytest.raises(StateError, match=r"B: '_Add' must come first"):
        Wf(xs=[1], bs=[2])(cache_root=cache)


def test_downstream_combine_of_an_axis_a_ragged_axis_depends_on(cache: Path) -> None:
    @workflow.define
    def Wf(ns: list[int]) -> list[list[int]]:
        r = workflow.add(Range().split(n=ns))
        i = workflow.add(Identity().split(x=r.out), name="I")
        return workflow.add(Identity(x=i.out).combine("Range.n"), name="J").out

    with pytest.raises(StateError, match=r"J: cannot combine Range.n while keeping I.x"):
        Wf(ns=[2, 3])(cache_root=cache)


def test_workflow_output_type_is_checked_at_construction(cache: Path) -> None:
    @workflow.define
    def Wf(xs: list[int]) -> list[str]:
        return workflow.add(Add(b=1).split(a=xs)).out

    with pytest.raises(InputError, match=r"Wf: output 'out' is declared list\[str\]"):
        Wf(xs=[1])(cache_root=cache)
