"""Virtual environments for the benchmarks' peers, built on first use.

Plain stdlib only: imported by benchmark scripts running in plait's own
environment, while each peer (Pydra, pipefunc, Parsl, raw Dask, ...) lives in
its own venv under ``benchmarks/.venvs/<name>`` so no two share site-packages.

API
---
``ensure_venv(name, requirements, check="", root=None) -> Path``
    Create (once) a venv at ``root`` (default ``benchmarks/.venvs/<name>``)
    with ``uv venv`` and install ``requirements`` into it with
    ``uv pip install`` (``python -m venv`` + ``pip`` without ``uv``). An
    existing venv is reused when it was built from the same requirements and
    its interpreter runs ``check`` (Python source) successfully; otherwise it
    is rebuilt. Concurrent callers build it once (an ``flock``). Returns the
    venv's ``python``.

``clean_env(**extra) -> dict``
    The environment for running a venv's python: this process's environment
    without ``PYTHONPATH``/``VIRTUAL_ENV``/... (nothing of plait's env leaks
    in), plus ``extra``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["VENVS_DIR", "clean_env", "ensure_venv", "venv_python"]

BENCHMARKS_DIR = Path(__file__).resolve().parent
VENVS_DIR = BENCHMARKS_DIR / ".venvs"

_SETUP_TIMEOUT = 900  # seconds, for venv creation + install
_MARKER = ".bench-requirements.json"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without Python path variables, plus ``extra``."""
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "CONDA_PREFIX"):
        env.pop(var, None)
    env["UV_COMPILE_BYTECODE"] = "1"
    env.update(extra)
    return env


def venv_python(root: Path) -> Path:
    """The interpreter of the venv at ``root``."""
    if os.name == "nt":  # pragma: no cover - benchmarks run on Linux
        return root / "Scripts" / "python.exe"
    return root / "bin" / "python"


def _works(root: Path, requirements: list[str], check: str) -> bool:
    python = venv_python(root)
    marker = root / _MARKER
    if not python.exists() or not marker.exists():
        return False
    try:
        if json.loads(marker.read_text()) != requirements:
            return False
        proc = subprocess.run(
            [str(python), "-c", check or "pass"],
            capture_output=True,
            text=True,
            timeout=120,
            env=clean_env(NO_ET="1"),
        )
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Inter-process lock so concurrent benchmark scripts build a venv once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=_SETUP_TIMEOUT, env=clean_env()
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
        )


def ensure_venv(
    name: str, requirements: Sequence[str], check: str = "", root: Path | None = None
) -> Path:
    """Return the python of a working venv ``name`` holding ``requirements``.

    ``requirements`` are ``pip install`` arguments (``"pydra==1.0a12"``,
    ``"-e"``, ``"/path/to/project"``); ``check`` is Python source that must
    run without error in the venv for it to be reused.
    """
    root = Path(root if root is not None else VENVS_DIR / name).resolve()
    reqs = list(requirements)
    if _works(root, reqs, check):
        return venv_python(root)
    with _lock(root.parent / f".{root.name}.lock"):
        if _works(root, reqs, check):  # built by someone else while we waited
            return venv_python(root)
        if root.exists():
            shutil.rmtree(root)
        base = sys.executable if sys.version_info >= (3, 11) else "3.11"
        python = venv_python(root)
        uv = shutil.which("uv")
        if uv:
            _run([uv, "venv", "--quiet", "--python", base, str(root)])
            if reqs:
                _run([uv, "pip", "install", "--quiet", "--python", str(python), *reqs])
        else:
            _run([base, "-m", "venv", str(root)])
            if reqs:
                _run([str(python), "-m", "pip", "install", "--quiet", *reqs])
        (root / _MARKER).write_text(json.dumps(reqs))
        if not _works(root, reqs, check):
            raise RuntimeError(f"venv at {root} was built from {reqs} but fails its check")
    return venv_python(root)


if __name__ == "__main__":  # python benchmarks/_venv.py NAME REQ... : build and print its python
    print(ensure_venv(sys.argv[1], sys.argv[2:]))
