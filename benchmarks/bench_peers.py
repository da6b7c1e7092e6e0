"""plait side by side with its peers on the same workloads (issue 14).

    python benchmarks/bench_peers.py                 # everything, 3 rounds
    python benchmarks/bench_peers.py --quick         # 1 round, 1,000 elements, 1,000 on Dask
    python benchmarks/bench_peers.py --workloads map,cached --peers plait,pipefunc-disk \\
        --sizes 10000 --rounds 5 --json out.json --markdown

Every peer runs in its own virtual environment under
``benchmarks/.venvs/<name>``, built on first use with ``uv venv`` + ``uv pip
install`` (``_venv.py``; Pydra's through ``_pydra_env.py``); plait's holds
``core`` and ``adapters/dask`` of this checkout, installed editable. Each run
is a fresh process (``benchmarks/peer_side/side_<peer>.py``) with a fresh
cache/run folder under ``--workdir`` (default ``benchmarks/.work``, on the
repository's disk), deleted afterwards.

Peers: ``plait`` (cf worker, 2 processes; ``worker="dask"`` on the Dask
workload), ``pipefunc-disk`` (``Pipeline.map`` with ``run_folder``),
``pipefunc-mem`` (in memory, ``storage="dict"``; ``client.get_executor()`` on
the Dask workload), ``parsl`` (HighThroughputExecutor, 2 local workers),
``pydra`` (1.0a12, cf worker), ``cf`` / ``cf-chunked`` (raw
``ProcessPoolExecutor.map``, chunksize 1 / n/8), ``dask`` (raw ``client.map``).

Workloads: ``map`` (trivial x + 1) and ``map-sleep`` (1 ms sleep) over each of
``--sizes``; ``mapreduce`` (map, then a sum over all, ``--mr-n`` elements);
``cached`` (the all-cached rerun of that map-reduce, only the rerun timed);
``dask`` (``--dask-n`` trivial jobs on LocalCluster(2 workers x 1 thread),
cluster start and a 100-job warm-up left out); ``cold`` (a 10-element map,
the whole process timed from outside: interpreter, imports, pool, run, exit).

Rounds are interleaved (every peer once per round, the order rotated each
round) so machine load hits all alike; the table gives the median, every
round, and the median over rounds of the paired ratio to plait's run of the
same round. The 1-minute load average is recorded at each run. Figures only:
nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO = BENCHMARKS_DIR.parent
SIDE_DIR = BENCHMARKS_DIR / "peer_side"
sys.path.insert(0, str(BENCHMARKS_DIR))

from _pydra_env import ensure_pydra_venv  # noqa: E402
from _venv import clean_env, ensure_venv  # noqa: E402


@dataclass(frozen=True)
class Peer:
    """One column of the table: a venv, a side script and its variant."""

    venv: str
    script: str
    variant: str = ""
    label: str = ""


_PLAIT_REQS = ["-e", str(REPO / "core"), "-e", str(REPO / "adapters" / "dask")]
_VENVS: dict[str, tuple[list[str], str]] = {
    "plait": (_PLAIT_REQS, "import plait, plait_dask"),
    "pipefunc": (["pipefunc", "distributed"], "import pipefunc, distributed"),
    "parsl": (["parsl"], "import parsl.executors"),
    "dask": (["distributed"], "import distributed"),
    "raw": ([], ""),
}

PEERS: dict[str, Peer] = {
    "plait": Peer("plait", "side_plait.py"),
    "pipefunc-disk": Peer("pipefunc", "side_pipefunc.py", "disk", "pipefunc run_folder"),
    "pipefunc-mem": Peer("pipefunc", "side_pipefunc.py", "mem", "pipefunc in memory"),
    "parsl": Peer("parsl", "side_parsl.py"),
    "pydra": Peer("pydra", "side_pydra.py"),
    "cf": Peer("raw", "side_raw.py", "chunk1", "ProcessPoolExecutor chunksize 1"),
    "cf-chunked": Peer("raw", "side_raw.py", "chunked", "ProcessPoolExecutor chunked"),
    "dask": Peer("dask", "side_dask.py", "", "raw Dask client.map"),
}

# which peers run which workload
WORKLOAD_PEERS: dict[str, list[str]] = {
    "map": ["plait", "pipefunc-disk", "pipefunc-mem", "parsl", "pydra", "cf", "cf-chunked"],
    "map-sleep": ["plait", "pipefunc-disk", "pipefunc-mem", "parsl", "pydra", "cf", "cf-chunked"],
    "mapreduce": ["plait", "pipefunc-disk", "pipefunc-mem", "parsl", "pydra", "cf", "dask"],
    "cached": ["plait", "pipefunc-disk", "pydra"],
    "dask": ["plait", "pipefunc-mem", "dask"],
    "cold": ["plait", "pipefunc-mem", "parsl", "pydra", "cf"],
}
_DASK_LABELS = {"pipefunc-mem": "pipefunc client.get_executor()", "plait": 'plait worker="dask"'}


def _python(venv: str) -> Path:
    if venv == "pydra":
        return ensure_pydra_venv()
    reqs, check = _VENVS[venv]
    return ensure_venv(venv, reqs, check=check)


def _run(
    peer: Peer, workload: str, n: int, procs: int, workdir: Path, timeout: float
) -> tuple[float | None, str, str]:
    """One run in a fresh process: (seconds or None, version, error text)."""
    python = _python(peer.venv)
    env = clean_env(
        PYTHONPATH=str(SIDE_DIR),
        PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        NO_ET="1",
        PARSL_TRACKING="false",
        PLAIT_CACHE_ROOT=str(workdir),
    )
    cmd = [str(python), str(SIDE_DIR / peer.script), workload, "--n", str(n)]
    cmd += ["--procs", str(procs), "--dir", str(workdir)]
    if peer.variant:
        cmd += ["--variant", peer.variant]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir
        )
    except subprocess.TimeoutExpired:
        return None, "", f"> {timeout:.0f} s (timed out)"
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return None, "", f"exit {proc.returncode}: {proc.stderr.strip()[-600:]}"
    out = json.loads(lines[-1])
    if not out["ok"]:
        return None, out["version"], "wrong result"
    return (wall if workload == "cold" else out["s"]), out["version"], ""


@dataclass
class Row:
    """The runs of one peer on one workload."""

    peer: str
    runs: list[float | None]
    version: str = ""
    error: str = ""


def _workloads(args: argparse.Namespace) -> list[tuple[str, int]]:
    todo: list[tuple[str, int]] = []
    for name in args.workloads:
        if name in ("map", "map-sleep"):
            todo += [(name, n) for n in args.sizes]
        elif name in ("mapreduce", "cached"):
            todo.append((name, args.mr_n))
        elif name == "dask":
            todo.append((name, args.dask_n))
        elif name == "cold":
            todo.append((name, 10))
        else:
            raise SystemExit(f"unknown workload {name!r}; choose from {sorted(WORKLOAD_PEERS)}")
    return todo


def _fmt(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:.3f}" if s < 10 else f"{s:.1f}"


def _ratio(row: Row, base: Row) -> float | None:
    pairs = [p / b for p, b in zip(row.runs, base.runs, strict=True) if p and b]
    return statistics.median(pairs) if pairs else None


def _report(name: str, n: int, rows: list[Row], loads: list[float], markdown: bool) -> str:
    base = next((r for r in rows if r.peer == "plait"), None)
    title = f"{name}, n={n:,}, procs=2; load average {min(loads):.1f}–{max(loads):.1f}"
    lines = [f"### {title}" if markdown else title]
    if markdown:
        lines += ["", "| peer | median s | runs (s) | peer / plait (paired) | version |"]
        lines.append("|---|---|---|---|---|")
    for row in rows:
        done = [r for r in row.runs if r is not None]
        med = statistics.median(done) if done else None
        ratio = _ratio(row, base) if base is not None and row is not base else None
        label = (_DASK_LABELS.get(row.peer) if name == "dask" else None) or (
            PEERS[row.peer].label or row.peer
        )
        runs = ", ".join(_fmt(r) for r in row.runs)
        rtxt = f"{ratio:.2f}×" if ratio is not None else ("1" if row is base else "—")
        err = row.error.strip().splitlines()[-1][-80:] if row.error.strip() else ""
        med_txt = _fmt(med) + (f" ({err})" if err else "")
        if markdown:
            lines.append(f"| {label} | {med_txt} | {runs} | {rtxt} | {row.version} |")
        else:
            lines.append(f"  {label:34} {med_txt:>10}  [{runs}]  {rtxt:>8}  {row.version}")
    return "\n".join(lines)


def _summary(groups: dict[tuple[str, int], dict[str, Row]], loads: dict) -> str:
    """One Markdown table: a row per workload, a column per peer, ``median s (peer/plait)``."""
    cols = [p for p in PEERS if any(p in rows for rows in groups.values())]
    names = {p: PEERS[p].label or p for p in cols}
    lines = [
        "| workload | load avg | " + " | ".join(names[p] for p in cols) + " |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for (name, n), rows in groups.items():
        base = rows.get("plait")
        cells = []
        for p in cols:
            row = rows.get(p)
            done = [r for r in row.runs if r is not None] if row else []
            if not row or not done:
                cells.append("—" if not row or not row.error else "failed")
                continue
            ratio = _ratio(row, base) if base is not None and row is not base else None
            text = f"{_fmt(statistics.median(done))} s"
            cells.append(text + (f" ({ratio:.2f}×)" if ratio is not None else ""))
        where = f"{name} {n:,}"
        lo = loads[(name, n)]
        lines.append(f"| {where} | {min(lo):.0f}–{max(lo):.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _replay(path: Path, markdown: bool, summary: bool = False) -> None:
    """Print the tables of the runs saved in ``path`` (a ``--json`` file)."""
    groups: dict[tuple[str, int], dict[str, Row]] = {}
    loads: dict[tuple[str, int], list[float]] = {}
    for rec in json.loads(path.read_text()):
        key = (str(rec["workload"]), int(rec["n"]))
        row = groups.setdefault(key, {}).setdefault(str(rec["peer"]), Row(str(rec["peer"]), []))
        row.runs.append(rec["s"])
        row.version = str(rec["version"]) or row.version
        row.error = str(rec["error"]) or row.error
        loads.setdefault(key, []).append(float(rec["load1"]))
    if summary:
        print(_summary(groups, loads))
        return
    for (name, n), rows in groups.items():
        ordered = [rows[p] for p in WORKLOAD_PEERS[name] if p in rows]
        print(_report(name, n, ordered, loads[(name, n)], markdown) + "\n")


def main() -> None:
    """Parse the options, run the rounds, print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--workloads", default="map,map-sleep,mapreduce,cached,dask,cold")
    parser.add_argument("--peers", default=",".join(PEERS), help="subset of " + ",".join(PEERS))
    parser.add_argument("--sizes", default=None, help="elements of the maps (1000,10000)")
    parser.add_argument("--mr-n", type=int, default=1000, help="elements of the map-reduce")
    parser.add_argument("--dask-n", type=int, default=None, help="jobs on the LocalCluster (10000)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (3)")
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--pydra-max", type=int, default=1000, help="skip Pydra above this n")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run")
    parser.add_argument("--workdir", default=str(BENCHMARKS_DIR / ".work"))
    parser.add_argument("--quick", action="store_true", help="1 round, 1,000 elements everywhere")
    parser.add_argument("--markdown", action="store_true", help="tables in Markdown")
    parser.add_argument("--json", help="also write every run to this file")
    parser.add_argument("--from-json", help="only print the tables of runs saved by --json")
    parser.add_argument(
        "--summary", action="store_true", help="with --from-json: one Markdown table of all"
    )
    args = parser.parse_args()
    if args.from_json:
        _replay(Path(args.from_json), args.markdown, args.summary)
        return
    quick = {"rounds": 1, "sizes": "1000", "dask_n": 1000}
    full = {"rounds": 3, "sizes": "1000,10000", "dask_n": 10_000}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:  # options given explicitly win over --quick
            setattr(args, key, value)
    args.workloads = [w for w in args.workloads.split(",") if w]
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    chosen = [p for p in args.peers.split(",") if p]
    unknown = set(chosen) - set(PEERS)
    if unknown:
        raise SystemExit(f"unknown peers {sorted(unknown)}; choose from {list(PEERS)}")
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    print(
        f"# bench_peers: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, rounds={args.rounds}, "
        f"workdir {workdir}",
        flush=True,
    )
    record: list[dict[str, object]] = []
    for name, n in _workloads(args):
        peers = [p for p in WORKLOAD_PEERS[name] if p in chosen]
        if n > args.pydra_max and "pydra" in peers:
            peers.remove("pydra")
        rows = {p: Row(p, []) for p in peers}
        loads: list[float] = []
        for rnd in range(args.rounds):
            k = rnd % len(peers) if peers else 0
            for peer in peers[k:] + peers[:k]:
                row = rows[peer]
                if row.error:  # a failed or timed-out peer is not run again
                    row.runs.append(None)
                    continue
                loads.append(os.getloadavg()[0])
                run_dir = Path(tempfile.mkdtemp(prefix=f"{peer}-", dir=workdir))
                try:
                    secs, version, error = _run(
                        PEERS[peer], name, n, args.procs, run_dir, args.timeout
                    )
                finally:
                    shutil.rmtree(run_dir, ignore_errors=True)
                row.runs.append(secs)
                row.version = version or row.version
                row.error = error
                if error:
                    print(f"  {peer} on {name} n={n}: {error}", file=sys.stderr, flush=True)
                record.append(
                    {"workload": name, "n": n, "round": rnd, "peer": peer, "s": secs,
                     "load1": loads[-1], "version": version, "error": error}
                )  # fmt: skip
        print(
            _report(name, n, [rows[p] for p in peers], loads or [0.0], args.markdown) + "\n",
            flush=True,
        )
        if args.json:  # after every workload, so an interrupted run keeps what it measured
            Path(args.json).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
