"""Job labels: how a job's node and state are shown to people and hosts.

A job's state is carried as structured pairs, :data:`State` — one
``(field, rendered value)`` per split field, slowest axis first — and turned
into text only here, at the edges (errors, logs, progress, Dask keys,
Airflow map indexes, Prefect task-run names)::

    >>> render_label("Pair", (("a", "1"), ("b", "x,y")))
    'Pair[a=1,b="x,y"]'
    >>> parse_label('Pair[a=1,b="x,y"]')
    ('Pair', (('a', '1'), ('b', 'x,y')))

A value is quoted (JSON string syntax) when it is empty, has leading or
trailing white space, or contains any of ``, = [ ] " ' \\``, so every label is
unambiguous and parses back to the pairs it was rendered from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "State",
    "parse_label",
    "parse_state",
    "render_label",
    "render_state",
    "render_value",
]

State = tuple[tuple[str, str], ...]
"""A job's state: ``(field, rendered value)`` pairs, slowest axis first."""

_NEEDS_QUOTES = re.compile(r"""[,=\[\]"'\\]""")
_FIELD = re.compile(r"[A-Za-z_][\w.]*")
_DECODER = json.JSONDecoder()

#: how many characters of a value a label shows (longer values are elided with …)
VALUE_LIMIT = 24


def render_value(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A short readable text for a state value: a file's name, a string as is, else repr.

    Values longer than ``limit`` characters are cut and end with ``…``.
    """
    fspath = getattr(value, "fspath", None)
    if fspath is not None and not isinstance(value, str):
        text = getattr(fspath, "name", str(fspath))
    elif isinstance(value, str):
        text = value
    else:
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _quoted(text: str) -> str:
    if not text or text != text.strip() or _NEEDS_QUOTES.search(text):
        return json.dumps(text, ensure_ascii=False)
    return text


def render_state(state: Sequence[tuple[str, str]]) -> str:
    """``a=1,b="x,y"``: the pairs of ``state`` as text, values quoted where needed."""
    return ",".join(f"{field}={_quoted(value)}" for field, value in state)


def render_label(node: str, state: Sequence[tuple[str, str]]) -> str:
    """``Node[a=1]``, or ``Node`` for a job without state."""
    return f"{node}[{render_state(state)}]" if state else node


def parse_state(text: str) -> State:
    """The pairs of a text made by :func:`render_state` (raises ValueError otherwise)."""
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _FIELD.match(text, pos)
        if m is None or m.end() >= len(text) or text[m.end()] != "=":
            raise ValueError(f"not a state label: {text!r} (at {pos})")
        field = m.group()
        pos = m.end() + 1
        if text.startswith('"', pos):
            value, pos = _DECODER.raw_decode(text, pos)
        else:
            end = text.find(",", pos)
            end = len(text) if end < 0 else end
            value = text[pos:end]
            pos = end
        pairs.append((field, value))
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError(f"not a state label: {text!r} (at {pos})")
            pos += 1
            if pos == len(text):
                raise ValueError(f"not a state label: {text!r} (trailing comma)")
    return tuple(pairs)


def parse_label(text: str) -> tuple[str, State]:
    """``(node, state)`` of a label made by :func:`render_label`."""
    start = text.find("[")
    if start < 0:
        return text, ()
    if not text.endswith("]"):
        raise ValueError(f"not a job label: {text!r}")
    return text[:start], parse_state(text[start + 1 : -1])
