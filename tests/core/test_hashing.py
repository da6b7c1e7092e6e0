"""Tests of plait.hashing: value and function hashes."""

from __future__ import annotations

import dataclasses
import enum
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import attrs
import pytest
from blake3 import blake3

from plait.filehash import FileHashCache, set_file_hash_cache
from plait.hashing import (
    HASH_FORMAT_VERSION,
    bytes_repr,
    hash_function,
    hash_object,
    type_ident,
)

CORE_SRC = str(Path(__file__).resolve().parents[2] / "core" / "src")


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Level(enum.IntEnum):
    LOW = 1


@attrs.define
class Point:
    x: int
    y: int


@dataclasses.dataclass
class DPoint:
    x: int
    y: int


SAMPLES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**70,
    -(2**70),
    1.0,
    0.0,
    -0.0,
    float("nan"),
    1 + 2j,
    "",
    "1",
    "é",
    b"1",
    bytearray(b"1"),
    [],
    (),
    {},
    set(),
    frozenset(),
    [1],
    (1,),
    [[1]],
    {"a": 1},
    {1: "a"},
    {1},
    frozenset({1}),
    Path("a/b"),
    Color.RED,
    Level.LOW,
    int,
    Path,
    Point(1, 2),
    DPoint(1, 2),
    ...,
    len,
    PurePosixPath("x"),
]


@pytest.fixture(autouse=True)
def _file_hash_cache(tmp_path: Path) -> Iterator[FileHashCache]:
    cache = FileHashCache(tmp_path / "file-hashes")
    previous = set_file_hash_cache(cache)
    yield cache
    set_file_hash_cache(previous)


def test_format_version() -> None:
    assert HASH_FORMAT_VERSION == 2


def test_hex_digest() -> None:
    h = hash_object({"a": [1, 2.0, "x"]})
    assert len(h) == 32 and int(h, 16) >= 0


def test_type_tags_distinguish_equal_looking_values() -> None:
    values = [1, 1.0, "1", True, [1], (1,), b"1", bytearray(b"1"), {1}, frozenset({1})]
    assert len({hash_object(v) for v in values}) == len(values)
    assert hash_object(0) != hash_object(False) != hash_object(None)
    assert hash_object(Level.LOW) != hash_object(1)


def test_all_samples_distinct_and_stable() -> None:
    hashes = [hash_object(v) for v in SAMPLES]
    assert len(set(hashes)) == len(SAMPLES)
    assert hashes == [hash_object(v) for v in SAMPLES]


def test_hash_object_is_hash_of_bytes_repr_stream() -> None:
    nested = {"k": [1, (2.5, "s"), {3, 4}], 5: {"x": frozenset({"a", "b"})}, "p": Point(1, 2)}
    for value in [*SAMPLES, nested, [nested, nested], (1, [2, [3, [4]]])]:
        stream = b"".join(bytes_repr(value))
        assert blake3(stream).hexdigest(16) == hash_object(value), value


def test_dict_independent_of_insertion_order() -> None:
    a = {"x": 1, "y": 2, 3: "z", (1, 2): None}
    b = {(1, 2): None, 3: "z", "y": 2, "x": 1}
    assert hash_object(a) == hash_object(b)
    assert hash_object({"x": 1}) != hash_object({"x": 2})
    assert hash_object({"x": 1}) != hash_object({"y": 1})


def test_sets() -> None:
    assert hash_object({3, 1, 2}) == hash_object({2, 3, 1})
    assert hash_object({"a", "b"}) == hash_object({"b", "a"})
    assert hash_object({1, 2}) != hash_object(frozenset({1, 2}))


def test_paths_are_names() -> None:
    assert hash_object(Path("/a/b")) == hash_object(Path("/a/b"))
    assert hash_object(Path("/a/b")) != hash_object(Path("/a/c"))
    assert hash_object(Path("/a/b")) != hash_object("/a/b")


def test_enum_type_attrs_dataclass() -> None:
    assert hash_object(Color.RED) != hash_object(Color.BLUE)
    assert hash_object(int) != hash_object(float)
    assert hash_object(Point(1, 2)) == hash_object(Point(1, 2))
    assert hash_object(Point(1, 2)) != hash_object(Point(2, 1))
    assert hash_object(Point(1, 2)) != hash_object(DPoint(1, 2))
    assert hash_object(DPoint(1, 2)) != hash_object(DPoint(1, 3))


def test_builtin_subclass_tagged() -> None:
    class MyStr(str):
        pass

    assert hash_object(MyStr("a")) != hash_object("a")


def test_unknown_type_raises_helpful_type_error() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match=r"Opaque.*bytes_repr\.register"):
        hash_object(Opaque())
    with pytest.raises(TypeError, match="Opaque"):
        hash_object({"a": [Opaque()]})


def test_register_custom_type() -> None:
    class Vec:
        def __init__(self, *xs: float) -> None:
            self.xs = xs

    @bytes_repr.register(Vec)
    def _(obj: Vec) -> Iterator[bytes]:
        yield type_ident(Vec)
        yield from bytes_repr(obj.xs)

    assert hash_object(Vec(1, 2)) == hash_object(Vec(1, 2))
    assert hash_object(Vec(1, 2)) != hash_object(Vec(2, 1))
    assert hash_object([Vec(1.0)]) != hash_object([(1.0,)])


def test_numpy_arrays() -> None:
    np = pytest.importorskip("numpy")
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    assert hash_object(a) == hash_object(a.copy())
    assert hash_object(a) != hash_object(a.reshape(4, 3))
    assert hash_object(a) != hash_object(a.astype(np.int32))
    assert hash_object(a.T) == hash_object(np.ascontiguousarray(a.T))
    b = a.copy()
    b[0, 0] = 99
    assert hash_object(a) != hash_object(b)
    assert hash_object(np.float64(1.0)) != hash_object(1.0)
    assert hash_object(np.float64(1.0)) != hash_object(np.float32(1.0))
    assert hash_object(np.array(["a", "b"])) == hash_object(np.array(["a", "b"]))
    assert blake3(b"".join(bytes_repr(a))).hexdigest(16) == hash_object(a)


def test_import_is_cheap() -> None:
    """plait.hashing itself imports neither numpy nor fileformats (nor dis/inspect)."""
    path = Path(CORE_SRC) / "plait" / "hashing.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('hashing_probe', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "bad = [m for m in ('numpy', 'fileformats', 'platformdirs', 'dis', 'inspect')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env())


# --------------------------------------------------------------------------
# fileformats
# --------------------------------------------------------------------------


def test_file_hashed_by_content(tmp_path: Path) -> None:
    from fileformats.generic import File

    a = tmp_path / "a.txt"
    a.write_text("hello")
    h = hash_object(File(a))
    b = tmp_path / "sub" / "renamed.txt"
    b.parent.mkdir()
    shutil.copy(a, b)
    assert hash_object(File(b)) == h
    os.rename(a, tmp_path / "moved.txt")
    assert hash_object(File(tmp_path / "moved.txt")) == h
    b.write_text("world")
    assert hash_object(File(b)) != h
    assert hash_object(File(b)) != hash_object(b)  # a path is a name


def test_directory_hashed_by_relative_tree(tmp_path: Path) -> None:
    from fileformats.generic import Directory

    d = tmp_path / "d1"
    (d / "sub").mkdir(parents=True)
    (d / "x.txt").write_text("x")
    (d / "sub" / "y.txt").write_text("y")
    h = hash_object(Directory(d))
    shutil.copytree(d, tmp_path / "elsewhere" / "d2")
    assert hash_object(Directory(tmp_path / "elsewhere" / "d2")) == h
    (d / "sub" / "y.txt").rename(d / "sub" / "z.txt")
    assert hash_object(Directory(d)) != h
    (d / "sub" / "z.txt").rename(d / "sub" / "y.txt")
    assert hash_object(Directory(d)) == h
    (d / "x.txt").write_text("changed")
    assert hash_object(Directory(d)) != h


def test_multi_file_set_ignores_common_stem(tmp_path: Path) -> None:
    from fileformats.generic import FileSet

    for stem in ("one", "two"):
        (tmp_path / f"{stem}.hdr").write_text("header")
        (tmp_path / f"{stem}.img").write_text("image")
    h1 = hash_object(FileSet([tmp_path / "one.hdr", tmp_path / "one.img"]))
    h2 = hash_object(FileSet([tmp_path / "two.img", tmp_path / "two.hdr"]))
    assert h1 == h2
    (tmp_path / "two.img").write_text("other")
    h3 = hash_object(FileSet([tmp_path / "two.img", tmp_path / "two.hdr"]))
    assert h3 != h1


def test_file_inside_containers(tmp_path: Path) -> None:
    from fileformats.generic import File

    (tmp_path / "a").write_text("1")
    (tmp_path / "b").write_text("1")
    assert hash_object({"in": [File(tmp_path / "a")]}) == hash_object(
        {"in": [File(tmp_path / "b")]}
    )


def test_file_uses_the_file_hash_cache(tmp_path: Path, _file_hash_cache: FileHashCache) -> None:
    from fileformats.generic import File

    f = tmp_path / "f.bin"
    f.write_bytes(b"x" * 1000)
    os.utime(f, ns=(10**18, 10**18))
    h = hash_object(File(f))
    hash_object(File(f))
    hash_object([File(f)])
    assert h == hash_object(File(f))
    assert _file_hash_cache.files_read == 1


# --------------------------------------------------------------------------
# functions
# --------------------------------------------------------------------------

SCALE = 2
TABLE = {"a": 1}


def _helper(x: int) -> int:
    return x * SCALE


def uses_constant(x: int) -> int:
    return x * SCALE


def uses_helper(x: int) -> int:
    return _helper(x) + 1


def uses_table(x: str) -> int:
    return TABLE[x]


def uses_module(x: float) -> float:
    return os.path.join(str(x))  # type: ignore[return-value]


def recursive(n: int) -> int:
    return 1 if n <= 0 else n * recursive(n - 1)


def mutual_a(n: int) -> int:
    return 0 if n <= 0 else mutual_b(n - 1)


def mutual_b(n: int) -> int:
    return 0 if n <= 0 else mutual_a(n - 1)


def test_function_identity_stable() -> None:
    assert hash_function(uses_constant) == hash_function(uses_constant)
    assert len(hash_function(uses_constant)) == 16
    assert hash_function(uses_constant) != hash_function(_helper)  # name differs


def test_function_changes_with_module_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    before = hash_function(uses_constant)
    monkeypatch.setitem(globals(), "SCALE", 3)
    assert hash_function(uses_constant) != before


def test_function_changes_with_called_user_function_globals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = hash_function(uses_helper)
    monkeypatch.setitem(globals(), "SCALE", 3)
    assert hash_function(uses_helper) != before


def test_function_changes_with_mutated_global_value() -> None:
    before = hash_function(uses_table)
    TABLE["a"] = 2
    try:
        assert hash_function(uses_table) != before
    finally:
        TABLE["a"] = 1
    assert hash_function(uses_table) == before


def test_function_changes_with_closure_value() -> None:
    def make(k: int) -> Any:
        def inner(x: int) -> int:
            return x + k

        return inner

    assert hash_function(make(1)) == hash_function(make(1))
    assert hash_function(make(1)) != hash_function(make(2))


def test_function_changes_with_code_and_defaults() -> None:
    ns: dict[str, Any] = {}
    exec("def f(x, y=1):\n    return x + y\n", ns)
    exec("def g(x, y=2):\n    return x + y\n", ns)
    exec("def h(x, y=1):\n    return x - y\n", ns)
    ns["g"].__qualname__ = ns["h"].__qualname__ = "f"
    f, g, h = ns["f"], ns["g"], ns["h"]
    assert hash_function(f) != hash_function(g)
    assert hash_function(f) != hash_function(h)


def test_nested_code_globals_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def outer(xs: list[int]) -> list[int]:
        return [x * SCALE for x in xs]

    before = hash_function(outer)
    monkeypatch.setitem(globals(), "SCALE", 5)
    assert hash_function(outer) != before


def test_modules_and_library_functions_by_name() -> None:
    assert hash_function(uses_module) == hash_function(uses_module)
    assert hash_function(os.path.join) == hash_function(os.path.join)
    assert hash_function(os.path.join) != hash_function(os.path.split)


def test_recursion_terminates() -> None:
    assert len(hash_function(recursive)) == 16
    assert hash_function(mutual_a) != hash_function(mutual_b)
    assert hash_function(mutual_a) == hash_function(mutual_a)


UNHASHABLE = object()


def reads_unhashable() -> object:
    return UNHASHABLE


def test_unhashable_global_names_function_and_global() -> None:
    with pytest.raises(TypeError, match=r"'UNHASHABLE'.*reads_unhashable"):
        hash_function(reads_unhashable)


def _load(tmp_path: Path, name: str, source: str) -> Any:
    """Import ``source`` as module ``name`` from its own folder (a fresh import each time)."""
    import importlib.util

    folder = tmp_path / f"v{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_function_identity_comes_from_the_source_not_docstrings_or_comments(
    tmp_path: Path,
) -> None:
    plain = _load(tmp_path, "tasks", "def f(x):\n    return x + 1\n")
    documented = _load(
        tmp_path,
        "tasks",
        '''
        def f(x):
            """Adds one."""
            # a comment, other spacing
            return (x
                    + 1)
        ''',
    )
    changed = _load(tmp_path, "tasks", "def f(x):\n    return x - 1\n")
    assert hash_function(plain.f) == hash_function(documented.f)
    assert hash_function(plain.f) != hash_function(changed.f)


def test_without_trustworthy_source_the_bytecode_decides(tmp_path: Path) -> None:
    from plait.hashing import _code_digest, _source_digest

    module = _load(tmp_path, "edited", "def f(x):\n    return x + 1\n")
    bytecode = _code_digest(module.f.__code__, set())
    assert _source_digest(module.f, bytecode) is not None
    Path(module.__file__).write_text("def f(x):\n    return x * 20\n")  # edited after import
    assert _source_digest(module.f, bytecode) is None
    namespace: dict[str, Any] = {}
    exec("def g(x):\n    return x\n", namespace)  # no source file
    assert _source_digest(namespace["g"], _code_digest(namespace["g"].__code__, set())) is None
    assert len(hash_function(namespace["g"])) == 16


def test_functions_as_values() -> None:
    assert hash_object(uses_constant) == hash_object(uses_constant)
    assert hash_object([uses_constant]) != hash_object([uses_helper])


# --------------------------------------------------------------------------
# determinism across processes
# --------------------------------------------------------------------------

_DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import enum, sys
    from pathlib import Path
    from plait.hashing import hash_object, hash_function

    class Kind(enum.Enum):
        A = "a"

    LOOKUP = {"z": 1, "a": 2, "m": {3, 4, "x"}}

    def task(x, y=("a", "b")):
        if x in {"p", "q", "r", "s"}:          # a frozenset constant
            return LOOKUP[x] + len(y)
        return sorted({"k", "j", x})

    values = [
        {"b": 1, "a": [1.5, "s", None], ("t", 1): frozenset({"x", "y", "z"})},
        {"alpha", "beta", "gamma", "delta", 7, 8.0},
        Path("/data/file.txt"), Kind.A, task, [task, LOOKUP],
    ]
    print(*[hash_object(v) for v in values], hash_function(task).hex())
    """
)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (CORE_SRC, env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def test_same_hashes_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    script = tmp_path / "determinism_script.py"
    script.write_text(_DETERMINISM_SCRIPT)
    outputs = set()
    for seed in ("0", "1", "12345"):
        out = subprocess.run(
            [sys.executable, str(script)],
            check=True,
            capture_output=True,
            text=True,
            env=_env(PYTHONHASHSEED=seed),
            cwd=tmp_path,
        ).stdout
        outputs.add(out)
    assert len(outputs) == 1, outputs
