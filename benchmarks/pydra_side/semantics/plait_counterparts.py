"""plait counterparts of the cases in cases.py that are not in tests/core (run in plait's env):

    PYTHONPATH=core/src python plait_counterparts.py [NAME ...]

plait writes the inherited-then-own outer product implicitly (`.split(b=ys)`), not as
Pydra's `["_A", "b"]` (which plait rejects; see ExplicitPrev).
"""

import sys, tempfile, traceback, typing as ty
from plait import python, workflow, Submitter

@python.define
def Add3(a: int, b: int = 0, c: int = 0) -> int:
    return a + b + c
@python.define
def SumL(xs: list[int], c: int = 0) -> int:
    return sum(xs) + c
@python.define
def Identity(x: object) -> object:
    return x
@python.define
def Range(n: int) -> list[int]:
    return list(range(n))
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
def ExplicitPrev(xs: list[int], ys: list[int], zs: list[int]) -> list[int]:
    a = workflow.add(Add3().split(a=xs), name="A")
    return workflow.add(Add3(a=a.out).split(["_A", "b"], b=ys), name="B").out

@workflow.define
def K1(xs: list[int], ys: list[int], zs: list[int]) -> ty.Any:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(b=ys).combine("b"), name="B")
    c = workflow.add(SumL(xs=b.out).split(c=zs).combine("c"), name="C")
    return c.out

@workflow.define
def K2(xs: list[int], ys: list[int], zs: list[int]) -> ty.Any:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(b=ys).combine("b"), name="B")
    c = workflow.add(SumL(xs=b.out).split(c=zs).combine("A.a"), name="C")
    return c.out

@workflow.define
def K4(xs: list[int], ys: list[int], zs: list[int]) -> ty.Any:
    a = workflow.add(Add3().split(["a", "b"], a=xs, b=ys), name="A")
    b = workflow.add(Add3(a=a.out).combine("A.a"), name="B")
    c = workflow.add(SumL(xs=b.out).split(c=zs).combine("A.b"), name="C")
    return c.out

@workflow.define
def K5(xs: list[int], ys: list[int], zs: list[int]) -> ty.Any:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(b=ys), name="B")
    c = workflow.add(Add3(a=b.out).split(c=zs), name="C")
    d = workflow.add(Add3(a=c.out).combine("C.c"), name="D")
    e = workflow.add(SumL(xs=d.out).combine("B.b"), name="E")
    f = workflow.add(Identity(x=e.out).combine("A.a"), name="F")
    return f.out

@workflow.define
def K6(xs: list[int], ys: list[int], zs: list[int]) -> ty.Any:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(b=ys), name="B")
    c = workflow.add(Add3(a=b.out).split(c=zs), name="C")
    d = workflow.add(Add3(a=c.out).combine("A.a"), name="D")
    e = workflow.add(Identity(x=d.out).combine("C.c"), name="E")
    return e.out

@workflow.define
def H4(xs: list[int], ys: list[int], zs: list[int]) -> ty.Any:
    a = workflow.add(Add3().split(a=xs), name="A")
    b = workflow.add(Add3(a=a.out).split(b=ys), name="B")
    c = workflow.add(Add3(a=b.out).split(c=zs).combine(["A.a", "B.b"]), name="C")
    return c.out

@workflow.define
def KeepOwn(xs: list[int], ys: list[int], zs: list[int]) -> ty.Any:
    a = workflow.add(Add3().split(a=xs), name="A")
    return workflow.add(Add3(a=a.out).split(b=ys).combine("A.a"), name="B").out

@workflow.define
def Three668(x: list) -> ty.Any:
    a = workflow.add(L2().split(x=x), name="a")
    b = workflow.add(L1().split(x=a.out), name="b")
    c = workflow.add(I0().split(x=b.out), name="c")
    d = workflow.add(Identity(x=c.out).combine("c.x"), name="d")
    e = workflow.add(Identity(x=d.out), name="e")
    return e.out

@workflow.define
def Three668a(x: list) -> ty.Any:
    a = workflow.add(L2().split(x=x), name="a")
    b = workflow.add(L1().split(x=a.out), name="b")
    c = workflow.add(I0().split(x=b.out), name="c")
    d = workflow.add(Identity(x=c.out).combine("a.x"), name="d")
    return d.out

@workflow.define
def UpNoComb(ns: list[int]) -> ty.Any:
    r = workflow.add(Range().split(n=ns), name="Range")
    i = workflow.add(I0().split(x=r.out), name="I")
    return workflow.add(Identity(x=i.out).combine("Range.n"), name="J").out

@workflow.define
def UpJx(ns: list[int]) -> ty.Any:
    r = workflow.add(Range().split(n=ns), name="Range")
    i = workflow.add(I0().split(x=r.out), name="I")
    return workflow.add(Identity(x=i.out).combine("I.x"), name="J").out

X = [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]
V = {n: (lambda n=n: globals()[n](xs=[1, 2], ys=[10, 20, 30], zs=[100, 200]))
     for n in ["ExplicitPrev", "K1", "K2", "K4", "K5", "K6", "H4", "KeepOwn"]}
V["Three668"] = lambda: Three668(x=X)
V["Three668a"] = lambda: Three668a(x=X)
V["UpNoComb"] = lambda: UpNoComb(ns=[2, 3])
V["UpJx"] = lambda: UpJx(ns=[2, 3])
for name in sys.argv[1:] or V:
    with tempfile.TemporaryDirectory() as d:
        try:
            with Submitter(worker="debug", cache_root=d) as sub:
                r = sub(V[name]())
            print(name, "OK", r.errored, {k: getattr(r.outputs, k) for k in ["out", "total"] if hasattr(r.outputs, k)})
        except Exception as e:
            print(name, "EXC", type(e).__name__, str(e)[:300])
