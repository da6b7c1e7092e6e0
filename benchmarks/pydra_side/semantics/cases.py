"""Pydra 1.0a12 equivalents of plait's split/combine cases (docs/design.md §3, tests/core).

Runs in the Pydra venv (benchmarks/.venvs/pydra), never in plait's env:

    NO_ET=1 ../../.venvs/pydra/bin/python cases.py NAME [--worker debug|cf]

prints one JSON line: {"case", "worker", "status": "ok"|"error", "outputs" | "error"}.
Outputs are converted to plain lists (Pydra's StateArray etc.) so the nesting
is visible. Use run_all.py to run every case, each bounded by a timeout.
Each case mirrors a test in tests/core/test_state.py / test_workflow.py; the
node names are the same so combiners like "Add.a" read the same.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback

os.environ.setdefault("NO_ET", "1")

from pydra.compose import python, workflow  # noqa: E402
from pydra.engine.submitter import Submitter  # noqa: E402

# -- tasks (same behaviour as tests/core/tasks.py) ----------------------------------


@python.define
def Add(a: int, b: int = 0) -> int:
    return a + b


@python.define
def Mul(a: int, b: int) -> int:
    return a * b


@python.define
def Sum(xs: list[int]) -> int:
    return sum(xs)


@python.define
def Identity(x: object) -> object:
    return x


@python.define
def Range(n: int) -> list[int]:
    return list(range(n))


@python.define
def Pair(a: int, b: str = "", c: int = 0) -> str:
    return f"{a}{b}{c}"


@python.define
def Length(x: list[int]) -> int:
    return len(x)


@python.define
def FailOn(x: int, bad: int = -1) -> int:
    if x == bad:
        raise ValueError(f"bad element {x}")
    return x


# -- workflows --------------------------------------------------------------------


@workflow.define
def Propagated(xs: list[int]) -> list[int]:
    a = workflow.add(Add(b=10).split(a=xs))
    b = workflow.add(Add(a=a.out, b=100), name="Second")
    return b.out


@workflow.define
def InheritedThenOwn(xs: list[int], bs: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(b=bs), name="Second")
    return b.out


@workflow.define
def SplitOverUpstreamLists(ns: list[int]) -> list[list[int]]:
    r = workflow.add(Range().split(n=ns))
    ident = workflow.add(Identity().split(x=r.out).combine("x"))
    return ident.out


@workflow.define
def SplitOverUpstreamFlat(ns: list[int]) -> list[int]:
    r = workflow.add(Range().split(n=ns))
    ident = workflow.add(Identity().split(x=r.out))
    return ident.out


@workflow.define(outputs=["grouped", "summed"])
def CombineInherited(xs: list[int]) -> tuple[list[int], int]:
    a = workflow.add(Add(b=1).split(a=xs))
    b = workflow.add(Add(a=a.out, b=1).combine("Add.a"), name="Second")
    s = workflow.add(Sum(xs=b.out))
    return b.out, s.out


@workflow.define
def CombineInheritedKeepOwn(xs: list[int], bs: list[int]) -> list[list[int]]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(b=bs).combine("Add.a"), name="Second")
    return b.out


@workflow.define
def Uncombined(xs: list[int], bs: list[int]) -> list[str]:
    a = workflow.add(Pair().split(["a", "c"], a=xs, c=bs))
    return a.out


@workflow.define
def TwoUpstreamsSameAxis(xs: list[int]) -> list[int]:
    a = workflow.add(Add(b=1).split(a=xs))
    b = workflow.add(Add(a=a.out, b=2), name="B")
    c = workflow.add(Add(a=a.out, b=b.out), name="C")
    return c.out


@workflow.define
def TwoIndependentUpstreams(xs: list[int], ys: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs), name="A")
    b = workflow.add(Add(b=0).split(a=ys), name="B")
    c = workflow.add(Add(a=a.out, b=b.out), name="C")
    return c.out


@workflow.define
def ZipWithInherited(xs: list[int], bs: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(("_Add", "b"), b=bs), name="Second")
    return b.out


@workflow.define
def ZipWithTwoInheritedAxes(xs: list[int], ys: list[int]) -> list[int]:
    a = workflow.add(Add().split(["a", "b"], a=xs, b=ys))
    return workflow.add(Add(a=a.out).split(("_Add", "b"), b=[1, 2]), name="B").out


@workflow.define
def CombineAxisInnerSplitDependsOn(ns: list[int]) -> list[int]:
    r = workflow.add(Range().split(n=ns))
    return workflow.add(Identity().split(x=r.out).combine("Range.n")).out


@workflow.define
def SplitPropagateCombine(xs: list[int], k: int) -> int:
    a = workflow.add(Add(b=1).split(a=xs))
    m = workflow.add(Mul(a=a.out, b=k).combine("Add.a"))
    s = workflow.add(Sum(xs=m.out))
    return s.out


@workflow.define(outputs=["total", "inner"])
def Outer(xs: list[int], k: int) -> tuple[int, int]:
    inner = workflow.add(SplitPropagateCombine(xs=xs, k=k))
    plus = workflow.add(Add(a=inner.out, b=1))
    return plus.out, inner.out


@workflow.define
def Many(groups: list[list[int]]) -> int:
    inner = workflow.add(SplitPropagateCombine(k=1).split(xs=groups).combine("xs"))
    return workflow.add(Sum(xs=inner.out)).out


@workflow.define(outputs=["each", "total"])
def FailPipeline(xs: list[int], bad: int) -> tuple[list[int], int]:
    f = workflow.add(FailOn(bad=bad).split(x=xs))
    a = workflow.add(Add(a=f.out, b=1))
    g = workflow.add(Add(a=a.out, b=0).combine("FailOn.x"), name="G")
    s = workflow.add(Sum(xs=g.out))
    return a.out, s.out


# -- cases beyond the tests: Pydra's explicit ["_Node", "b"] form, three levels ----------


@python.define
def Add3(a: int, b: int = 0, c: int = 0) -> int:
    return a + b + c


@python.define
def SumL(xs: list[int], c: int = 0) -> int:
    return sum(xs) + c


@python.define
def L2(x: list[list[int]]) -> list[list[int]]:
    return x


@python.define
def L1(x: list[int]) -> list[int]:
    return x


@python.define
def I0(x: int) -> int:
    return x


@workflow.define
def ExplicitPrev(xs: list[int], bs: list[int]) -> list[int]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(["_Add", "b"], b=bs), name="Second")
    return b.out


@workflow.define
def ExplicitPrevCombine(xs: list[int], bs: list[int]) -> list[list[int]]:
    a = workflow.add(Add(b=0).split(a=xs))
    b = workflow.add(Add(a=a.out).split(["_Add", "b"], b=bs).combine("Add.a"), name="Second")
    return b.out


@workflow.define
def UpstreamListsExplicit(ns: list[int]) -> list[list[int]]:
    r = workflow.add(Range().split(n=ns))
    return workflow.add(I0().split(["_Range", "x"], x=r.out).combine("x"), name="I").out


@workflow.define
def UpstreamListsExplicitFlat(ns: list[int]) -> list[int]:
    r = workflow.add(Range().split(n=ns))
    return workflow.add(I0().split(["_Range", "x"], x=r.out), name="I").out


@workflow.define
def ThreeLevelLists(x: list[list[list[int]]]) -> list[list[int]]:
    # pydra issue #668's shape (it hung in Pydra 0.x): split three times, combine once
    a = workflow.add(L2().split(x=x), name="a")
    b = workflow.add(L1().split(x=a.out), name="b")
    c = workflow.add(I0().split(x=b.out), name="c")
    d = workflow.add(Identity(x=c.out).combine("c.x"), name="d")
    return workflow.add(Identity(x=d.out), name="e").out


@workflow.define
def ThreeLevelListsExplicit(x: list[list[list[int]]]) -> list[list[int]]:
    a = workflow.add(L2().split(x=x), name="a")
    b = workflow.add(L1().split(["_a", "x"], x=a.out), name="b")
    c = workflow.add(I0().split(["_b", "x"], x=b.out), name="c")
    d = workflow.add(Identity(x=c.out).combine("c.x"), name="d")
    return workflow.add(Identity(x=d.out), name="e").out


@workflow.define
def ThreeLevelCombineOuterKeepInner(xs: list[int], ys: list[int], zs: list[int]) -> list[list[int]]:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(["_A", "b"], b=ys).combine("b"), name="B")
    c = workflow.add(SumL(xs=b.out).split(["_B", "c"], c=zs).combine("A.a"), name="C")
    return c.out


@workflow.define
def ThreeLevelCombineInnerKeepOwn(xs: list[int], ys: list[int], zs: list[int]) -> list[list[int]]:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(["_A", "b"], b=ys).combine("b"), name="B")
    c = workflow.add(SumL(xs=b.out).split(["_B", "c"], c=zs).combine("c"), name="C")
    return c.out


@workflow.define
def OuterThenCombineEachLevel(xs: list[int], ys: list[int], zs: list[int]) -> list[list[int]]:
    a = workflow.add(Add3().split(["a", "b"], a=xs, b=ys), name="A")
    b = workflow.add(Add3(a=a.out).combine("A.a"), name="B")
    c = workflow.add(SumL(xs=b.out).split(["_B", "c"], c=zs).combine("A.b"), name="C")
    return c.out


@workflow.define
def ThreeLevelCombineTwoInherited(xs: list[int], ys: list[int], zs: list[int]) -> list[list[int]]:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(["_A", "b"], b=ys), name="B")
    c = workflow.add(Add3(a=b.out).split(["_B", "c"], c=zs).combine(["A.a", "B.b"]), name="C")
    return c.out


@workflow.define
def ThreeLevelPeelEachLevel(xs: list[int], ys: list[int], zs: list[int]) -> list[list[int]]:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(["_A", "b"], b=ys), name="B")
    c = workflow.add(Add3(a=b.out).split(["_B", "c"], c=zs), name="C")
    d = workflow.add(Add3(a=c.out).combine("C.c"), name="D")
    e = workflow.add(SumL(xs=d.out).combine("B.b"), name="E")
    return workflow.add(Identity(x=e.out).combine("A.a"), name="F").out


@workflow.define
def ThreeLevelCombineOutermostFirst(xs: list[int], ys: list[int], zs: list[int]) -> object:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(["_A", "b"], b=ys), name="B")
    c = workflow.add(Add3(a=b.out).split(["_B", "c"], c=zs), name="C")
    d = workflow.add(Add3(a=c.out).combine("A.a"), name="D")
    return workflow.add(Identity(x=d.out).combine("C.c"), name="E").out


XYZ = dict(xs=[1, 2], ys=[10, 20, 30], zs=[100, 200])
LISTS3 = [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]


# -- the cases (name -> task factory) ---------------------------------------------------

CASES = {
    # §3 table rows
    "single_split": lambda: Add(b=1).split(a=[1, 2, 3]),
    "outer_list": lambda: Pair().split(["a", "b"], a=[1, 2, 3], b=["x", "y"]),
    "outer_kwargs": lambda: Pair().split(a=[1, 2, 3], b=["x", "y"]),
    "scalar": lambda: Pair().split(("a", "b"), a=[1, 2], b=["x", "y"]),
    "scalar_unequal": lambda: Pair().split(("a", "b"), a=[1, 2], b=["x", "y", "z"]),
    "nested_outer_of_scalar": lambda: Pair().split(
        ["a", ("b", "c")], a=[1, 2], b=["x", "y"], c=[7, 8]
    ),
    "combine_one_of_two": lambda: Pair()
    .split(["a", "b"], a=[1, 2, 3], b=["x", "y"])
    .combine("a"),
    "combine_both": lambda: Pair().split(["a", "b"], a=[1, 2], b=["x", "y"]).combine(["a", "b"]),
    "combine_scalar_field": lambda: Pair()
    .split(["c", ("a", "b")], a=[1, 2], b=["x", "y"], c=[5, 6])
    .combine("a"),
    "list_of_lists": lambda: Length().split(x=[[1, 2], [3, 4, 5]]),
    "propagated": lambda: Propagated(xs=[1, 2, 3]),
    "inherited_then_own": lambda: InheritedThenOwn(xs=[1, 2], bs=[10, 20, 30]),
    "split_over_upstream_lists": lambda: SplitOverUpstreamLists(ns=[2, 3]),
    "split_over_upstream_flat": lambda: SplitOverUpstreamFlat(ns=[2, 3]),
    "combine_inherited": lambda: CombineInherited(xs=[1, 2, 3]),
    "combine_inherited_keep_own": lambda: CombineInheritedKeepOwn(xs=[1, 2], bs=[10, 20, 30]),
    "uncombined_at_wf_output": lambda: Uncombined(xs=[1, 2], bs=[3, 4]),
    "two_upstreams_same_axis": lambda: TwoUpstreamsSameAxis(xs=[1, 2, 3]),
    "two_independent_upstreams": lambda: TwoIndependentUpstreams(xs=[1, 2], ys=[10, 20]),
    "zip_with_inherited": lambda: ZipWithInherited(xs=[1, 2, 3], bs=[10, 20, 30]),
    "zip_with_two_inherited_axes": lambda: ZipWithTwoInheritedAxes(xs=[1, 2], ys=[3]),
    "combine_axis_inner_split_depends_on": lambda: CombineAxisInnerSplitDependsOn(ns=[1, 2]),
    "empty_split_combined": lambda: Add(b=1).split(a=[]).combine("a"),
    "empty_split": lambda: Add(b=1).split(a=[]),
    # workflows (test_workflow.py)
    "split_propagate_combine_reduce": lambda: SplitPropagateCombine(xs=[1, 2, 3], k=10),
    "nested_workflow": lambda: Outer(xs=[1, 2, 3], k=10),
    "whole_workflow_split_top_level": lambda: SplitPropagateCombine(k=2).split(
        xs=[[1, 2], [3], [4, 5, 6]]
    ),
    "split_workflow_node_in_workflow": lambda: Many(groups=[[1], [2, 3]]),
    # failures
    "fail_top_level_split": lambda: FailOn(bad=2).split(x=[1, 2, 3]),
    "fail_one_of_100": lambda: FailPipeline(xs=list(range(100)), bad=37),
    # beyond the tests
    "explicit_prev_outer": lambda: ExplicitPrev(xs=[1, 2], bs=[10, 20, 30]),
    "explicit_prev_combine_inherited": lambda: ExplicitPrevCombine(xs=[1, 2], bs=[10, 20, 30]),
    "upstream_lists_explicit_combined": lambda: UpstreamListsExplicit(ns=[2, 3]),
    "upstream_lists_explicit_flat": lambda: UpstreamListsExplicitFlat(ns=[2, 3]),
    "three_level_lists_668": lambda: ThreeLevelLists(x=LISTS3),
    "three_level_lists_668_explicit": lambda: ThreeLevelListsExplicit(x=LISTS3),
    "three_level_combine_inner_keep_own": lambda: ThreeLevelCombineInnerKeepOwn(**XYZ),
    "three_level_combine_outer_keep_inner": lambda: ThreeLevelCombineOuterKeepInner(**XYZ),
    "outer_then_combine_each_level": lambda: OuterThenCombineEachLevel(**XYZ),
    "three_level_combine_two_inherited": lambda: ThreeLevelCombineTwoInherited(**XYZ),
    "three_level_peel_each_level": lambda: ThreeLevelPeelEachLevel(**XYZ),
    "three_level_combine_outermost_first": lambda: ThreeLevelCombineOutermostFirst(**XYZ),
}


def plain(value):
    """Nested plain lists/values (StateArray and other sequences -> list)."""
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "StateArray":
        return [plain(v) for v in value]
    return repr(value)


def outputs_dict(outputs):
    if outputs is None:
        return None
    names = [n for n in dir(outputs) if not n.startswith("_")]
    try:
        from pydra.utils.general import get_fields

        names = [f.name for f in get_fields(type(outputs))]
    except Exception:  # pragma: no cover - API moved
        pass
    return {n: plain(getattr(outputs, n)) for n in names}


def run(name: str, worker: str, cache: str) -> dict:
    res: dict = {"case": name, "worker": worker}
    try:
        task = CASES[name]()
        kw = {"n_procs": 2} if worker == "cf" else {}
        with Submitter(worker=worker, cache_root=cache, **kw) as sub:
            result = sub(task)
        res["errored"] = bool(result.errored)
        try:
            res["outputs"] = outputs_dict(result.outputs)
        except Exception as exc:  # noqa: BLE001
            res["outputs_error"] = f"{type(exc).__name__}: {exc}"
        if result.errored:
            try:
                errs = result.errors
                res["errors"] = plain(errs) if not isinstance(errs, dict) else {
                    k: str(v)[-300:] for k, v in errs.items()
                }
            except Exception as exc:  # noqa: BLE001
                res["errors"] = f"{type(exc).__name__}: {exc}"
        res["status"] = "errored" if result.errored else "ok"
    except BaseException as exc:  # noqa: BLE001
        res["status"] = "exception"
        res["exception"] = f"{type(exc).__name__}: {str(exc)[:400]}"
        res["traceback_tail"] = traceback.format_exc().strip().splitlines()[-3:]
    res["job_dirs"] = sum(1 for e in os.scandir(cache) if e.is_dir())
    res["job_results"] = sum(
        1 for e in os.scandir(cache) if os.path.exists(os.path.join(e.path, "_result.pklz"))
    )
    return res


if __name__ == "__main__":
    name = sys.argv[1]
    worker = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--worker" else "debug"
    with tempfile.TemporaryDirectory(prefix="pydra-sem-") as cache:
        out = run(name, worker, cache)
    sys.stdout.flush()
    print(json.dumps(out, default=repr))
