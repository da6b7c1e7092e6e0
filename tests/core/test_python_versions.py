"""Checksums are the same on every supported Python (issue 13): 3.11, 3.12 and 3.13.

Each other interpreter gets a throwaway venv (``uv venv`` + the core's
dependencies, cached by uv) and runs the same script with the core and the
test tasks on ``PYTHONPATH``; every printed checksum must equal this
interpreter's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTERPRETERS = {
    "3.12": Path("/root/.pyenv/versions/3.12.1/bin/python"),
    "3.13": Path("/root/.pyenv/versions/3.13.0/bin/python"),
}

# Constructs whose syntax trees or bytecode changed between 3.11 and 3.13:
# f-strings (PEP 701), comprehensions (inlined in 3.12, PEP 709), match,
# closures, lambdas read as globals, decorators, annotations, try/except.
CONSTRUCTS = textwrap.dedent(
    '''
    from __future__ import annotations
    import functools

    SCALE = 3
    square = lambda x: x * x  # noqa: E731


    def fstrings(name: str, width: int = 8) -> str:
        """Docstrings are not part of the identity."""
        return f"{name!r:>{width}} {SCALE:.2f} {'nested'}"


    def comprehensions(xs: list[int]) -> dict[int, list[int]]:
        return {x: [y * SCALE for y in range(x) if y % 2] for x in xs}


    def matching(value: object) -> str:
        match value:
            case {"k": int(n)} if n > 1:
                return "big"
            case [_, *rest]:
                return str(len(rest))
            case _:
                return "other"


    def make_closure(k: int):
        def inner(x: int) -> int:
            try:
                return square(x) + k
            except (TypeError, ValueError) as e:
                raise RuntimeError("bad") from e
        return inner


    closure = make_closure(2)


    @functools.lru_cache
    def cached(x: int) -> int:
        return x


    async def coroutine(x: int) -> int:
        return x + SCALE
    '''
)

SCRIPT = textwrap.dedent(
    """
    import sys
    import plait
    from plait.hashing import hash_function
    from core_tasks import Add, Copy, DivMod, Powers, Voxel
    import constructs

    def checksums(defn, node):
        return [j.checksum for j in plait.compile(defn, cache_root="/x").static_jobs(node)]

    print("add", *checksums(Add(b=2).split(a=[1, 2]), "Add"))
    print("divmod", *checksums(DivMod(a=7, b=2), "DivMod"))
    print("copy", *checksums(Copy(in_file=sys.argv[1]), "Copy"))
    print("voxel", *checksums(Voxel(script="x", in_file=sys.argv[1], voxel=2), "Voxel"))
    wf = plait.compile(Powers(ps=[1, 2]), cache_root="/x", inline=False)
    print("powers", wf.static_jobs("Powers")[0].checksum)
    for name in ["fstrings", "comprehensions", "matching", "closure", "coroutine", "square"]:
        print(name, hash_function(getattr(constructs, name)).hex())
    print("values", plait.hash_object({"a": 1.5, "b": [None, "x", (1, 2)], "c": {3, 4}}))
    """
)


def _venv_python(version: str, interpreter: Path, root: Path) -> Path:
    """A venv of ``interpreter`` with the core's dependencies, or skip saying why."""
    if not interpreter.exists():
        pytest.skip(f"Python {version} is not installed at {interpreter}")
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: cannot build a venv for another Python")
    venv = root / f"venv-{version}"
    steps = [
        [uv, "venv", "-q", "--python", str(interpreter), str(venv)],
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "-r",
         str(ROOT / "core" / "pyproject.toml")],
    ]  # fmt: skip
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot build a Python {version} venv ({' '.join(step)}): {proc.stderr}")
    return venv / "bin" / "python"


def _run(python: Path | str, tmp_path: Path, data: Path, env: dict[str, str]) -> list[str]:
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] += os.pathsep + str(tmp_path)
    proc = subprocess.run(
        [str(python), str(tmp_path / "sums.py"), str(data)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.parametrize("version", sorted(INTERPRETERS))
def test_same_checksums_on_python_3_11_and(
    version: str, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    (tmp_path / "constructs.py").write_text(CONSTRUCTS)
    (tmp_path / "sums.py").write_text(SCRIPT)
    data = tmp_path / "data.txt"
    data.write_text("content")
    here = _run(sys.executable, tmp_path, data, subprocess_env)
    assert len(here) == 12
    other = _venv_python(version, INTERPRETERS[version], tmp_path)
    assert _run(other, tmp_path, data, subprocess_env) == here
