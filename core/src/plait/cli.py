"""The ``plait`` command line: run a workflow, draw its graph, inspect and prune the cache.

::

    plait run examples/quickstart.py:Powers --input 'ps=[1,2,3]' --worker cf --n-procs 2
    plait graph examples/quickstart.py:Powers --input 'ps=[1,2,3]' -o powers.svg
    plait cache list | plait cache show <checksum> | plait cache failures
    plait cache rm --failed --older-than 7d --node Square

``MODULE:DEFINITION`` names a definition class (or instance) in an importable
module (``pkg.mod:Name``) or in a Python file (``path/to/file.py:Name``).
Input values are JSON when they parse as JSON (``3``, ``[1, 2]``, ``"a"``),
strings otherwise; ``--inputs FILE`` reads a JSON or YAML mapping.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from . import cachedirs
from .cache import default_cache_root
from .definition import TaskDef

__all__ = ["load_definition", "main", "parse_inputs"]


def load_definition(target: str) -> Any:
    """The object ``MODULE:NAME`` names (a module path or a ``.py`` file)."""
    module_part, sep, name = target.rpartition(":")
    if not sep or not module_part or not name:
        raise click.BadParameter(f"{target!r}: expected MODULE:DEFINITION, e.g. wf.py:Powers")
    if module_part.endswith(".py") or os.sep in module_part:
        path = Path(module_part).resolve()
        if not path.is_file():
            raise click.BadParameter(f"{module_part}: no such file")
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise click.BadParameter(f"{module_part}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    else:
        sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_part)
        except ModuleNotFoundError as exc:
            raise click.BadParameter(
                f"cannot import {module_part!r} ({exc}); give a file (path/to/wf.py:Name) "
                "or run from the folder that holds the module"
            ) from None
    try:
        return getattr(module, name)
    except AttributeError:
        raise click.BadParameter(f"module {module_part!r} has no {name!r}") from None


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_inputs(pairs: tuple[str, ...], inputs_file: str | None) -> dict[str, Any]:
    """Inputs from a JSON/YAML file, then ``name=value`` pairs (which win)."""
    values: dict[str, Any] = {}
    if inputs_file:
        text = Path(inputs_file).read_text()
        if inputs_file.endswith((".yaml", ".yml")):
            try:
                import yaml  # type: ignore[import-untyped,unused-ignore]
            except ImportError:
                raise click.UsageError(
                    f"{inputs_file}: reading YAML needs PyYAML (pip install pyyaml)"
                ) from None
            loaded = yaml.safe_load(text)
        else:
            loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise click.UsageError(f"{inputs_file}: expected a mapping of input names to values")
        values.update(loaded)
    for pair in pairs:
        name, eq, text = pair.partition("=")
        if not eq or not name:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE", param_hint="--input")
        values[name.strip()] = _value(text)
    return values


def make_definition(target: str, pairs: tuple[str, ...], inputs_file: str | None) -> TaskDef:
    """The definition instance to run: the class called with the inputs, or an instance.

    Errors the user can fix (a wrong input type, a missing input) are reported as
    one line naming the task and the field, without a traceback.
    """
    from .errors import PlaitError

    try:
        return _make_definition(target, pairs, inputs_file)
    except PlaitError as exc:
        raise click.UsageError(f"{type(exc).__name__}: {exc}") from None


def _make_definition(target: str, pairs: tuple[str, ...], inputs_file: str | None) -> TaskDef:
    obj = load_definition(target)
    values = parse_inputs(pairs, inputs_file)
    if isinstance(obj, type) and issubclass(obj, TaskDef):
        unknown = sorted(set(values) - set(obj._inputs))
        if unknown:
            raise click.UsageError(
                f"{obj.__name__} has no input(s) {', '.join(unknown)}; "
                f"its inputs: {', '.join(obj._inputs)}"
            )
        return obj(**values)
    if isinstance(obj, TaskDef):
        if values:
            raise click.UsageError(f"{target} is an instance; --input applies to a class")
        return obj
    raise click.UsageError(f"{target} is {type(obj).__name__}, not a plait definition")


def _worker_kwargs(n_procs: int | None, options: tuple[str, ...]) -> dict[str, Any]:
    kwargs = {k: v for k, v in (_pair(o) for o in options)}
    if n_procs is not None:
        kwargs["n_procs"] = n_procs
    return kwargs


def _pair(text: str) -> tuple[str, Any]:
    name, eq, value = text.partition("=")
    if not eq:
        raise click.BadParameter(f"{text!r}: expected NAME=VALUE", param_hint="--worker-option")
    return name, _value(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    fspath = getattr(value, "fspath", None)
    return str(fspath) if fspath is not None else repr(value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="plait")
def main() -> None:
    """plait: run typed, cached workflows on any host, draw them, manage the cache."""


_input = click.option(
    "--input",
    "-i",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="an input value (JSON, else a string); repeat for more",
)
_inputs_file = click.option(
    "--inputs",
    "inputs_file",
    type=click.Path(exists=True, dir_okay=False),
    help="a JSON or YAML file mapping input names to values",
)
_cache_root = click.option(
    "--cache-root",
    type=click.Path(file_okay=False),
    default=None,
    help="the job cache (default: $PLAIT_CACHE_ROOT or the per-user cache)",
)


@main.command()
@click.argument("target", metavar="MODULE:DEFINITION")
@_input
@_inputs_file
@click.option("--worker", "-w", default="debug", show_default=True, help="debug, cf, dask ...")
@click.option("--n-procs", type=int, default=None, help="processes of the cf worker")
@click.option(
    "--worker-option",
    "options",
    multiple=True,
    metavar="NAME=VALUE",
    help="another keyword argument of the worker",
)
@_cache_root
@click.option(
    "--progress/--no-progress",
    default=None,
    help="the live display (default: on when standard error is a terminal)",
)
@click.option(
    "--graph",
    "graph_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="also write the graph coloured by outcome (.svg, .png, .dot, .mmd)",
)
def run(
    target: str,
    pairs: tuple[str, ...],
    inputs_file: str | None,
    worker: str,
    n_procs: int | None,
    options: tuple[str, ...],
    cache_root: str | None,
    progress: bool | None,
    graph_file: str | None,
) -> None:
    """Run MODULE:DEFINITION and print its outputs as JSON."""
    from .progress import LiveProgress, ProgressCounts
    from .submitter import Submitter

    defn = make_definition(target, pairs, inputs_file)
    root = Path(cache_root) if cache_root else default_cache_root()
    recorder = cachedirs.RunRecorder(root)
    shown = _compile(defn, root)
    show = progress if progress is not None else sys.stderr.isatty()
    counts: ProgressCounts = LiveProgress(shown) if show else ProgressCounts(shown)
    try:
        submitter = Submitter(
            worker=worker,
            cache_root=root,
            hooks=recorder.hooks,
            progress=counts,
            **_worker_kwargs(n_procs, options),
        )
    except (ValueError, TypeError) as exc:
        raise click.UsageError(str(exc)) from None
    with submitter:
        if isinstance(counts, LiveProgress):
            with counts:
                result = submitter(defn)
        else:
            result = submitter(defn)
            counts.finish()
    recorder.save()
    if graph_file:
        from .graphviz import visualize

        try:
            visualize(shown, graph_file, counts.statuses())
        except (RuntimeError, ValueError) as exc:  # no Graphviz, or no suffix: the run stands
            click.echo(f"could not write {graph_file}: {exc}", err=True)
    outputs = {k: _jsonable(v) for k, v in _outputs_dict(result.outputs).items()}
    click.echo(json.dumps(outputs, indent=2))
    summary = f"{'failed' if result.errored else 'done'} in {result.runtime.wall:.2f} s"
    if result.cached:
        summary += " (served from the cache)"
    click.echo(summary, err=True)
    if result.errored:
        click.echo(_failure_text(result), err=True)
        sys.exit(1)


def _failure_text(result: Any) -> str:
    from .errors import JobFailedError

    try:
        result.raise_for_errors()
    except JobFailedError as exc:
        return str(exc)
    return ""


def _compile(defn: TaskDef, root: Path) -> Any:
    """``plait.compile``, with the user's mistakes (missing inputs ...) as one-line errors."""
    from .errors import PlaitError
    from .graph import compile

    try:
        return compile(defn, cache_root=root)
    except PlaitError as exc:
        raise click.UsageError(f"{type(exc).__name__}: {exc}") from None


def _outputs_dict(outputs: Any) -> dict[str, Any]:
    import attrs

    if outputs is None:
        return {}
    if attrs.has(type(outputs)):
        return attrs.asdict(outputs, recurse=False)
    return dict(outputs)


@main.command()
@click.argument("target", metavar="MODULE:DEFINITION")
@_input
@_inputs_file
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="the picture: .svg, .png, .pdf (through Graphviz), .dot or .mmd (text)",
)
def graph(target: str, pairs: tuple[str, ...], inputs_file: str | None, output: str) -> None:
    """Draw MODULE:DEFINITION's graph: nodes with their split/combine, edges with their fields."""
    from .graphviz import visualize

    defn = make_definition(target, pairs, inputs_file)
    graph = _compile(defn, default_cache_root())
    try:
        path = visualize(graph, output)
    except (RuntimeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}", err=True)


@main.group()
def cache() -> None:
    """Inspect and prune the job cache (safe while other runs use it)."""


def _root(cache_root: str | None) -> Path:
    return Path(cache_root) if cache_root else default_cache_root()


def _human(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


@cache.command("list")
@_cache_root
@click.option("--node", default=None, help="only jobs of this node")
@click.option("--failed", is_flag=True, help="only failed jobs")
def list_jobs(cache_root: str | None, node: str | None, failed: bool) -> None:
    """List jobs: directory, state, runtime, size, age and label."""
    rows = cachedirs.entries(_root(cache_root))
    rows = [
        e for e in rows if (node is None or e.node == node) and (not failed or e.state == "failed")
    ]
    now = time.time()
    for e in rows:
        runtime = "-" if e.runtime is None else f"{e.runtime:.3f}s"
        age = now - e.mtime
        click.echo(
            f"{e.name[:24]:<24}  {e.state:<10} {runtime:>9} {_human(e.size):>9} "
            f"{_age(age):>6}  {e.label}"
        )
    click.echo(f"{len(rows)} job(s) in {_root(cache_root)}", err=True)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


@cache.command("show")
@click.argument("job")
@_cache_root
def show_job(job: str, cache_root: str | None) -> None:
    """Show JOB (a directory name or checksum prefix): inputs, outputs, error, traceback."""
    try:
        path = cachedirs.find(_root(cache_root), job)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    record = cachedirs.show(path)
    traceback = record.pop("traceback", None)
    for key, value in record.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k} = {v}")
        else:
            click.echo(f"{key}: {value}")
    if traceback:
        click.echo("traceback:")
        click.echo(traceback.rstrip())


@cache.command("failures")
@_cache_root
def failures(cache_root: str | None) -> None:
    """List the failed jobs of the last ``plait run`` with their errors."""
    root = _root(cache_root)
    record = cachedirs.last_run(root)
    if not record:
        raise click.ClickException(f"no `plait run` recorded in {root}")
    failed = [j for j in record.get("jobs", []) if j.get("state") == "failed"]
    for j in failed:
        error = cachedirs.show(root / j["job"]).get("error", "?")
        click.echo(f"{j['label']}  {j['job'][:24]}  {error}")
    click.echo(f"{len(failed)} failed job(s) in the last run", err=True)


@cache.command("rm")
@_cache_root
@click.option("--older-than", default=None, metavar="AGE", help="e.g. 30m, 12h, 7d, 2w")
@click.option("--failed", is_flag=True, help="only failed (and unfinished) jobs")
@click.option("--node", default=None, help="only jobs of this node")
@click.option("--all", "everything", is_flag=True, help="every job (no other filter needed)")
@click.option("--dry-run", is_flag=True, help="list what would be removed")
def remove_jobs(
    cache_root: str | None,
    older_than: str | None,
    failed: bool,
    node: str | None,
    everything: bool,
    dry_run: bool,
) -> None:
    """Remove jobs matching every filter given; jobs running elsewhere are left alone."""
    if not (older_than or failed or node or everything):
        raise click.UsageError("give a filter (--older-than, --failed, --node) or --all")
    try:
        cutoff = time.time() - cachedirs.parse_age(older_than) if older_than else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    chosen = [
        e
        for e in cachedirs.entries(_root(cache_root))
        if (cutoff is None or e.mtime < cutoff)
        and (not failed or e.state in ("failed", "incomplete"))
        and (node is None or e.node == node)
    ]
    if dry_run:
        for e in chosen:
            click.echo(f"would remove {e.name}  {e.state}  {e.label}")
        return
    removed, busy = cachedirs.remove(e.path for e in chosen)
    for p in busy:
        click.echo(f"skipped {p.name}: in use by a running job", err=True)
    click.echo(f"removed {len(removed)} job(s)", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
