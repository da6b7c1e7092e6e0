"""Run the Pydra side of plait's side-by-side benchmarks in a separate venv.

Plain stdlib only: this module is imported by plait benchmark scripts running
in plait's own environment, while Pydra (``pydra==1.0a12``) lives in its own
virtual environment so the two never share site-packages.

API
---
``ensure_pydra_venv(root: Path = DEFAULT_VENV_ROOT) -> Path``
    Create (once) a venv at ``root`` with ``uv venv`` and install
    ``pydra==1.0a12`` into it with ``uv pip install`` (``_venv.ensure_venv``,
    shared with ``bench_peers.py``); an existing venv is reused when its
    interpreter imports that Pydra version.  Returns the venv's ``python``.

``run_pydra_benchmark(name: str, **params) -> dict``
    Run ``benchmarks/pydra_side/<name>.py`` with that python in a subprocess
    and return the JSON object the script prints on its last stdout line.
    Each keyword becomes a CLI option: ``n1=316`` -> ``--n1 316``,
    ``rerun_scope="nodes"`` -> ``--rerun-scope nodes``, ``rerun=True`` ->
    ``--rerun`` (``False``/``None`` are omitted).  Keywords starting with an
    underscore are for this helper and are not passed on:
    ``_venv_root`` (Path), ``_subprocess_timeout`` (seconds, default: the
    script's ``timeout`` + 300 s if given, else 3 hours).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _venv import VENVS_DIR, clean_env, ensure_venv

__all__ = [
    "DEFAULT_VENV_ROOT",
    "PYDRA_REQUIREMENT",
    "PYDRA_SIDE_DIR",
    "PYDRA_VERSION",
    "ensure_pydra_venv",
    "pydra_script",
    "run_pydra_benchmark",
]

PYDRA_VERSION = "1.0a12"
PYDRA_REQUIREMENT = f"pydra=={PYDRA_VERSION}"

BENCHMARKS_DIR = Path(__file__).resolve().parent
PYDRA_SIDE_DIR = BENCHMARKS_DIR / "pydra_side"
DEFAULT_VENV_ROOT = VENVS_DIR / "pydra"

_DEFAULT_RUN_TIMEOUT = 3 * 3600


_CHECK = (
    "import importlib.metadata as m, pydra.compose, pydra.engine.submitter;"
    f" assert m.version('pydra') == {PYDRA_VERSION!r}"
)


def _clean_env() -> dict[str, str]:
    """Environment for the Pydra venv: nothing of plait's env leaks in."""
    return clean_env(NO_ET="1")  # NO_ET: Pydra's etelemetry check would try the network


def ensure_pydra_venv(root: Path = DEFAULT_VENV_ROOT) -> Path:
    """Return the python of a working venv at ``root`` holding pydra==1.0a12.

    Built by ``_venv.ensure_venv`` (``uv venv`` + ``uv pip install``) the
    first time, or rebuilt if present but broken, and reused afterwards.
    """
    return ensure_venv("pydra", [PYDRA_REQUIREMENT], check=_CHECK, root=Path(root))


def pydra_script(name: str) -> Path:
    """Path of ``benchmarks/pydra_side/<name>.py`` (``name`` may end in .py)."""
    stem = name[:-3] if name.endswith(".py") else name
    script = PYDRA_SIDE_DIR / f"{stem}.py"
    if not script.is_file() or stem.startswith("_"):
        raise ValueError(f"no Pydra benchmark script {script}")
    return script


def _to_cli(params: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in params.items():
        opt = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(opt)
        elif isinstance(value, (list, tuple, dict)):
            args += [opt, json.dumps(value)]
        else:
            args += [opt, str(value)]
    return args


def run_pydra_benchmark(name: str, **params: Any) -> dict:
    """Run ``benchmarks/pydra_side/<name>.py`` in the Pydra venv; return its JSON."""
    venv_root = params.pop("_venv_root", DEFAULT_VENV_ROOT)
    run_timeout = params.pop("_subprocess_timeout", None)
    if run_timeout is None:
        t = params.get("timeout")
        run_timeout = float(t) + 300 if t is not None else _DEFAULT_RUN_TIMEOUT
    unknown = [k for k in params if k.startswith("_")]
    if unknown:
        raise TypeError(f"unknown helper options {unknown}")
    script = pydra_script(name)
    python = ensure_pydra_venv(Path(venv_root))
    cmd = [str(python), str(script), *_to_cli(params)]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=run_timeout,
            env=_clean_env(),
            cwd=str(PYDRA_SIDE_DIR),
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{' '.join(cmd)} exceeded {run_timeout} s") from exc
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{' '.join(cmd)} failed (exit {proc.returncode})\n"
            f"stdout tail:\n{proc.stdout[-2000:]}\nstderr tail:\n{proc.stderr[-4000:]}"
        )
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"last stdout line of {script.name} is not JSON: {lines[-1]!r}") from exc
    if not isinstance(result, dict):
        raise RuntimeError(f"{script.name} printed {type(result).__name__}, not a JSON object")
    return result


if __name__ == "__main__":  # python benchmarks/_pydra_env.py [name --k v ...]
    if len(sys.argv) == 1:
        print(ensure_pydra_venv())
    else:
        kw: dict[str, Any] = {}
        rest = sys.argv[2:]
        i = 0
        while i < len(rest):
            key = rest[i].lstrip("-").replace("-", "_")
            if i + 1 < len(rest) and not rest[i + 1].startswith("--"):
                kw[key] = rest[i + 1]
                i += 2
            else:
                kw[key] = True
                i += 1
        print(json.dumps(run_pydra_benchmark(sys.argv[1], **kw)))
