"""``shell.define``: a command-line tool as a task definition, from a template.

Example::

    from plait import shell

    Copy = shell.define("cp <in_file:generic/file> <out|out_file:generic/file>")  # class Copy
    Gzip = shell.define("gzip -c -<level:int=6> <in_file:generic/file>")  # gzip -c -6 FILE

Template syntax, one token after another, whitespace-separated:

- a plain word is passed as it is, always (``cp``, ``-r``): a word starting
  with ``-`` before a placeholder is *not* tied to that input (``gzip -c
  <in_file:generic/file>`` always passes ``-c``);
- ``<name:type>`` is an input rendered at that place; ``type`` is ``int``,
  ``float``, ``str``, ``bool``, ``path`` or a fileformats MIME-like name
  (``generic/file``, ``generic/directory``, ``text/plain`` ...); ``+`` after the
  type makes it a list (``<files:generic/file+>``);
- ``<name:type=default>`` gives a default, ``<name:type?>`` makes it optional
  (omitted when None);
- text glued to a placeholder is rendered with each value and left out with
  it: ``-<level:int=6>`` renders ``-6``, ``--tag=<tag:str?>`` renders
  ``--tag=x`` or nothing;
- ``[FLAG <name:type>]`` ties an option flag to an input: ``[-o <out:str?>]``
  renders ``-o value``, or nothing when ``out`` is None (or an empty list);
  for a ``bool`` input the flag alone is passed when True
  (``[--verbose <verbose:bool=False>]``). A flag word written before an
  optional or ``bool`` placeholder *outside* brackets is refused, since it
  is unclear whether it belongs to the input;
- ``<out|name:type>`` is an output file: the input ``name`` is its file name
  (default: ``name=template``, e.g. ``<out|out_file:text/plain={in_file}_copy>``;
  ``{field}`` is replaced by that input's value, a file's stem), created inside
  the job's directory; the output ``name`` is the file the tool wrote.

Every shell task also has the outputs ``stdout``, ``stderr`` and ``return_code``.
``stdout`` and ``stderr`` are decoded as UTF-8; bytes that are not UTF-8 are
kept as surrogate escapes, so ``out.stdout.encode("utf-8", "surrogateescape")``
gives the exact bytes the tool wrote (gzip's compressed data above).
Commands run as an argument list, never through a shell.
"""

from __future__ import annotations

import dis
import re
import shlex
import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import attrs

from .definition import TaskDef, make_definition_class
from .errors import DefinitionError, PlaitError
from .fields import MISSING, Field
from .resources import make_resources

__all__ = ["ShellCommandError", "ShellDef", "define"]

_PLACEHOLDER = re.compile(r"<(?P<body>[^<>]+)>")
_BODY = re.compile(
    r"^(?P<out>out\|)?(?P<name>[A-Za-z_]\w*)"
    r"(?::(?P<type>[A-Za-z0-9_./\-]+?)(?P<multi>\+)?)?"
    r"(?P<opt>\?)?(?:=(?P<default>.*))?$"
)
_STDERR_TAIL = 2000


class ShellCommandError(PlaitError, RuntimeError):
    """A command exited with a non-zero code; shows the command and the tail of stderr."""


@attrs.frozen
class Arg:
    """One placeholder of a shell template."""

    name: str
    type: Any
    flag: str | None = None
    is_output: bool = False
    multiple: bool = False
    prefix: str = ""
    suffix: str = ""


@attrs.frozen
class Literal:
    """A plain word of a shell template."""

    text: str


class ShellDef(TaskDef):
    """Base class of definitions made by :func:`define`."""

    _kind: ClassVar[str] = "shell"
    _template: ClassVar[str]
    _parts: ClassVar[tuple[Arg | Literal, ...]]

    @classmethod
    def _identity_parts(cls) -> tuple[Any, ...]:
        """The full command template."""
        return (cls._template,)

    def command_args(self, job_dir: str | Path) -> list[str]:
        """The command as an argument list, output files placed inside ``job_dir``."""
        args: list[str] = []
        for part in self._parts:
            if isinstance(part, Literal):
                args.append(part.text)
                continue
            value = getattr(self, part.name)
            if part.is_output:
                value = str(Path(job_dir) / self._output_name(part))
            if value is None or value is MISSING:
                continue
            if part.type is bool and part.flag:
                if value:
                    args.append(part.flag)
                continue
            if part.multiple and part.flag and not value:
                continue
            if part.flag:
                args.append(part.flag)
            values = value if part.multiple else [value]
            args.extend(f"{part.prefix}{_render(v)}{part.suffix}" for v in values)
        return args

    @property
    def cmdline(self) -> str:
        """The command line as a shell would show it (output paths relative to the job dir)."""
        return shlex.join(self.command_args("."))

    def _output_name(self, part: Arg) -> str:
        template = getattr(self, part.name)
        values = {
            n: _stem(getattr(self, n)) for n in self._inputs if getattr(self, n) is not MISSING
        }
        try:
            name = str(template).format(**values)
        except (KeyError, IndexError) as e:
            raise DefinitionError(
                f"{type(self).__name__}.{part.name}: file name template {template!r} "
                f"names an unknown input {e}"
            ) from None
        ext = _default_ext(part.type)
        if ext and not Path(name).suffix:
            name += ext
        return confined_output_name(type(self).__name__, part.name, name)

    def _execute(self, job_dir: str, environment: Any = None) -> dict[str, Any]:
        """Run the command in ``job_dir``; return stdout, stderr, return_code and output files.

        ``environment`` (see :mod:`plait.environments`) may wrap the command,
        e.g. in a container.
        """
        args = self.command_args(job_dir)
        run_args = environment.wrap(args, job_dir, self) if environment is not None else args
        try:
            proc = subprocess.run(run_args, cwd=job_dir, capture_output=True)
        except FileNotFoundError as e:
            raise ShellCommandError(
                f"{type(self).__name__}: cannot run {shlex.join(args)!r}: {e.strerror}: "
                f"{e.filename}"
            ) from None
        stdout = proc.stdout.decode("utf-8", "surrogateescape")
        stderr = proc.stderr.decode("utf-8", "surrogateescape")
        if proc.returncode != 0:
            tail = stderr[-_STDERR_TAIL:]
            raise ShellCommandError(
                f"{type(self).__name__}: command exited with {proc.returncode}: "
                f"{shlex.join(args)}\nstderr (tail):\n{tail}"
            )
        outputs: dict[str, Any] = {
            "stdout": stdout,
            "stderr": stderr,
            "return_code": proc.returncode,
        }
        for part in self._parts:
            if isinstance(part, Arg) and part.is_output:
                path = Path(job_dir) / self._output_name(part)
                if not path.exists():
                    raise ShellCommandError(
                        f"{type(self).__name__}: output {part.name!r} was not created: "
                        f"{path} (command: {shlex.join(args)})"
                    )
                outputs[part.name] = part.type(path) if part.type is not Path else path
        return outputs


def confined_output_name(task: str, field: str, name: str) -> str:
    """``name`` if it stays inside the job directory, else an error naming the output.

    Output files are created in the job's own directory: an absolute path, a
    ``..`` component, or an empty name is rejected before the command runs, so
    no template or input value can make a command write outside the cache.
    """
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\0" in name:
        raise DefinitionError(
            f"{task}.{field}: output file name {name!r} would leave the job directory; "
            "expected a relative name without '..' (outputs are created inside the job's "
            "cache directory)"
        )
    return name


def _render(value: Any) -> str:
    fspath = getattr(value, "fspath", None)
    if fspath is not None and not isinstance(value, (str, Path)):
        return str(fspath)
    return str(value)


def _stem(value: Any) -> Any:
    fspath = getattr(value, "fspath", None)
    if fspath is not None and not isinstance(value, str):
        return Path(fspath).name.split(".")[0]
    if isinstance(value, Path):
        return value.name.split(".")[0]
    return value


def _default_ext(tp: Any) -> str:
    ext = getattr(tp, "ext", None)
    return ext if isinstance(ext, str) else ""


_SIMPLE_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "path": Path,
}


def parse_type(name: str | None, task: str, field: str) -> Any:
    """A type from a template type name (``int``, ``path``, ``generic/file`` ...)."""
    if name is None:
        return str
    if name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[name]
    if "/" in name:
        from fileformats.core import from_mime

        try:
            return from_mime(name)
        except Exception as e:
            raise DefinitionError(f"{task}.{field}: unknown file type {name!r}: {e}") from None
    raise DefinitionError(
        f"{task}.{field}: unknown type {name!r} (use int, float, str, bool, path "
        "or a fileformats MIME-like name such as generic/file)"
    )


def parse_template(template: str, task: str) -> tuple[list[Arg | Literal], dict[str, Field]]:
    """Parse a template into its parts and its input fields."""
    parts: list[Arg | Literal] = []
    inputs: dict[str, Field] = {}
    tokens = template.split()
    if not tokens:
        raise DefinitionError(f"{task}: empty command template")
    flag: str | None = None  # the flag of an open [FLAG <placeholder>] group
    for i, token in enumerate(tokens):
        if token.startswith("[-"):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if flag is not None or not nxt.endswith("]") or not _PLACEHOLDER.search(nxt):
                raise DefinitionError(
                    f"{task}: bad option group at {token!r} in {template!r}: "
                    "write [FLAG <name:type>], e.g. [-o <out:str?>]"
                )
            flag = token[1:]
            continue
        m = _PLACEHOLDER.search(token)
        if m is None:
            parts.append(Literal(token))
            continue
        if flag is not None:
            token = token[:-1]  # the closing bracket of the group
        body = _BODY.match(m.group("body"))
        if body is None:
            raise DefinitionError(f"{task}: cannot read placeholder {m.group(0)!r} in {template!r}")
        name = body.group("name")
        if name in inputs:
            raise DefinitionError(f"{task}: input {name!r} appears twice in the template")
        is_output = bool(body.group("out"))
        multiple = bool(body.group("multi"))
        tp = parse_type(body.group("type"), task, name)
        default_text = body.group("default")
        if is_output:
            default: Any = default_text if default_text is not None else name
            in_type: Any = str
        else:
            default = _parse_default(default_text, tp, task, name)
            if body.group("opt") and default is MISSING:
                default = None
            in_type = list[tp] if multiple else tp  # type: ignore[valid-type]
            if default is None:
                in_type = in_type | None
        if flag is None:
            _check_no_loose_flag(parts, name, tp, default, task)
        parts.append(
            Arg(
                name=name,
                type=tp,
                flag=flag,
                is_output=is_output,
                multiple=multiple,
                prefix=token[: m.start()],
                suffix=token[m.end() :],
            )
        )
        help_text = "output file name" if is_output else ""
        inputs[name] = Field(name, in_type, default, help_text)
        flag = None
    return parts, inputs


def _check_no_loose_flag(
    parts: Sequence[Arg | Literal], name: str, tp: Any, default: Any, task: str
) -> None:
    """Refuse ``-o <out:str?>``: is ``-o`` the input's flag or an option of its own?"""
    previous = parts[-1] if parts else None
    if not isinstance(previous, Literal) or not previous.text.startswith("-"):
        return
    if default is None or tp is bool:
        word = previous.text
        raise DefinitionError(
            f"{task}: {word!r} before the {'bool' if tp is bool else 'optional'} input "
            f"{name!r} would be passed even when {name!r} is left out; write "
            f"'[{word} <{name}:...>]' to tie the flag to the input, or move {word!r} "
            "elsewhere if it is an option of its own"
        )


def _parse_default(text: str | None, tp: Any, task: str, name: str) -> Any:
    if text is None:
        return MISSING
    if tp is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
    try:
        return tp(text) if tp in (int, float, str) else text
    except ValueError:
        raise DefinitionError(f"{task}.{name}: default {text!r} is not a {tp.__name__}") from None


def define(
    template: str,
    *,
    name: str | None = None,
    cpus: int | None = None,
    memory: int | str | None = None,
    timeout: float | None = None,
) -> type[ShellDef]:
    """Make a shell task definition class from a command template (see module docstring).

    The class's name (what node names, labels and errors show) is ``name``;
    without it, the variable the result is assigned to (``Copy =
    shell.define("cp ...")`` makes ``Copy``); when the result is not assigned
    to a variable, the executable's name in CamelCase (``gzip`` -> ``Gzip``).
    The class is importable under the variable it is assigned to, so its jobs
    pickle by reference.
    """
    module, qualname, bound = _caller_binding(sys._getframe(1))
    executable = template.split()[0] if template.split() else "Shell"
    task = name or bound or _class_name(executable)
    parts, inputs = parse_template(template, task)
    outputs: dict[str, Field] = {}
    for part in parts:
        if isinstance(part, Arg) and part.is_output:
            outputs[part.name] = Field(part.name, part.type)
    outputs["stdout"] = Field("stdout", str)
    outputs["stderr"] = Field("stderr", str)
    outputs["return_code"] = Field("return_code", int)
    return make_definition_class(
        task,
        ShellDef,
        inputs,
        outputs,
        module=module,
        doc=f"Shell task: ``{template}``",
        namespace={
            "_template": template,
            "_parts": tuple(parts),
            "_resources": make_resources(cpus, memory, timeout),
        },
        qualname=qualname if bound else task,
    )


_STORES = {"STORE_NAME", "STORE_GLOBAL", "STORE_FAST", "STORE_DEREF"}


def _caller_binding(frame: types.FrameType) -> tuple[str, str, str | None]:
    """Module, qualified name and variable name of the caller's ``X = define(...)``.

    Read from the instruction that follows the call in the caller's code: a
    store to a variable (no source needed). The variable name is None when
    the call's value is not stored right away.
    """
    module = frame.f_globals.get("__name__", "__main__")
    code = frame.f_code
    after = [i for i in dis.get_instructions(code) if i.offset > frame.f_lasti]
    if not after or after[0].opname not in _STORES or not str(after[0].argval).isidentifier():
        return module, "", None
    store = after[0]
    bound = str(store.argval)
    scope = code.co_qualname
    if store.opname == "STORE_GLOBAL" or scope == "<module>":
        return module, bound, bound
    if store.opname == "STORE_NAME":  # a class body
        return module, f"{scope}.{bound}", bound
    return module, f"{scope}.<locals>.{bound}", bound


def _class_name(executable: str) -> str:
    base = Path(executable).name
    words = re.split(r"[^A-Za-z0-9]+", base)
    text = "".join(w[:1].upper() + w[1:] for w in words if w)
    if not text or not text[0].isalpha():
        text = "Shell" + text
    return text


def input_paths(defn: ShellDef) -> Sequence[Path]:
    """The file system paths of a shell task's file inputs (for container bind mounts)."""
    paths: list[Path] = []
    for part in defn._parts:
        if isinstance(part, Arg) and not part.is_output:
            value = getattr(defn, part.name)
            for v in value if part.multiple and value else [value]:
                fspaths = getattr(v, "fspaths", None)
                if fspaths:
                    paths.extend(Path(p) for p in fspaths)
                elif isinstance(v, Path):
                    paths.append(v)
    return paths
