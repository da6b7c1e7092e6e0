"""Pictures of a compiled graph: Graphviz DOT and Mermaid texts, and rendered files.

No extra dependency: :func:`to_dot` and :func:`to_mermaid` return text;
:func:`visualize` writes ``.dot``/``.gv``/``.mmd`` text itself and renders
other formats (``.svg``, ``.png``, ``.pdf``) with Graphviz's ``dot`` program
when it is installed. Example::

    import plait
    graph = plait.compile(Powers(ps=[1, 2, 3]))
    print(plait.graphviz.to_mermaid(graph))

Each node shows its name, kind, split axes and combined axes; each edge the
``output -> input`` fields it carries; nested workflows that ``compile``
flattened (``graph.groups``) are drawn as clusters. ``status`` (node name ->
``done``, ``cached``, ``failed``, ``skipped``, ``partial`` or ``running``)
colours the nodes, e.g. after a run from
:meth:`plait.progress.ProgressCounts.statuses`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .fields import is_lazy

if TYPE_CHECKING:
    from .graph import Graph, Node
    from .state import Axis

__all__ = ["COLOURS", "edges", "node_text", "to_dot", "to_mermaid", "visualize"]

#: fill colour per outcome status
COLOURS = {
    "done": "#b7e1a1",
    "cached": "#a8d0f0",
    "failed": "#f4a6a6",
    "skipped": "#d9d9d9",
    "partial": "#f7d794",
    "running": "#fff3b0",
    "pending": "#ffffff",
}

#: formats written as text without Graphviz
TEXT_FORMATS = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}


def node_text(node: Node, group: str | None = None) -> list[str]:
    """The lines of a node's label: name (without its ``group.`` prefix), kind, split, combine."""
    shown = node.name.removeprefix(group + ".") if group else node.name
    lines = [shown, f"({node.kind})"]
    if node.inherited:
        lines.append("inherits " + " × ".join(_axis(a, node.name) for a in node.inherited))
    if node.own:
        lines.append("split " + " × ".join(_axis(a, node.name) for a in node.own))
    if node.combined:
        lines.append("combine " + ", ".join(_axis(a, node.name) for a in node.combined))
    return lines


def _axis(axis: Axis, node: str) -> str:
    """An axis as ``p`` (the node's own field), ``(a,b)`` (zipped) or ``Up.p`` (inherited)."""
    return axis.name.removeprefix(node + ".") if axis.node == node else axis.name


def edges(graph: Graph) -> list[tuple[str, str, list[str]]]:
    """``(upstream, downstream, ["output->input", ...])`` for every connection."""
    found: dict[tuple[str, str], list[str]] = {}
    for name, node in graph.nodes.items():
        for up in node.upstream:
            found.setdefault((up, name), [])
        defn = node.definition
        for field in type(defn)._inputs:
            value: Any = getattr(defn, field, None)
            if is_lazy(value) and value.node in graph.nodes:
                found.setdefault((value.node, name), []).append(f"{value.field}->{field}")
    return [(up, down, fields) for (up, down), fields in found.items()]


def _group_tree(graph: Graph) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Parent of each group (None at top) and the innermost group of each node."""
    groups: Mapping[str, list[str]] = getattr(graph, "groups", None) or {}
    parent: dict[str, str | None] = {}
    for g in groups:
        outer = [p for p in groups if p != g and g.startswith(p + ".")]
        parent[g] = max(outer, key=len) if outer else None
    home: dict[str, str | None] = {name: None for name in graph.nodes}
    for g, members in groups.items():
        for m in members:
            current = home.get(m)
            if m in home and (current is None or len(g) > len(current)):
                home[m] = g
    return parent, home


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def to_dot(graph: Graph, status: Mapping[str, str] | None = None) -> str:
    """The graph as Graphviz DOT text (nodes coloured by ``status`` when given)."""
    status = status or {}
    parent, home = _group_tree(graph)
    lines = [f"digraph {_quote(graph.name)} {{", "  rankdir=TB;"]
    lines.append('  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontsize=11];')
    lines.append("  edge [fontsize=9];")

    def emit(group: str | None, indent: str) -> None:
        for name, node in graph.nodes.items():
            if home[name] != group:
                continue
            colour = COLOURS.get(status.get(name, ""), COLOURS["pending"])
            label = _quote("\n".join(node_text(node, group)))
            extra = f", tooltip={_quote(status[name])}" if name in status else ""
            lines.append(f'{indent}{_quote(name)} [label={label}, fillcolor="{colour}"{extra}];')
        for g, p in sorted(parent.items()):
            if p != group:
                continue
            lines.append(f"{indent}subgraph {_quote('cluster_' + g)} {{")
            lines.append(f'{indent}  label={_quote(g)}; style="rounded,dashed";')
            emit(g, indent + "  ")
            lines.append(f"{indent}}}")

    emit(None, "  ")
    for up, down, fields in edges(graph):
        label = f" [label={_quote(chr(10).join(fields))}]" if fields else ""
        lines.append(f"  {_quote(up)} -> {_quote(down)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(graph: Graph, status: Mapping[str, str] | None = None) -> str:
    """The graph as a Mermaid flowchart (nodes coloured by ``status`` when given)."""
    status = status or {}
    parent, home = _group_tree(graph)
    ids = {name: f"n{i}" for i, name in enumerate(graph.nodes)}
    group_ids = {g: f"g{i}" for i, g in enumerate(sorted(parent))}
    lines = ["flowchart TD"]

    def emit(group: str | None, indent: str) -> None:
        for name, node in graph.nodes.items():
            if home[name] == group:
                label = "<br/>".join(_mermaid_text(t) for t in node_text(node, group))
                lines.append(f'{indent}{ids[name]}["{label}"]')
        for g, p in sorted(parent.items()):
            if p == group:
                lines.append(f'{indent}subgraph {group_ids[g]}["{_mermaid_text(g)}"]')
                emit(g, indent + "  ")
                lines.append(f"{indent}end")

    emit(None, "  ")
    for up, down, fields in edges(graph):
        label = f'|"{_mermaid_text(", ".join(fields))}"|' if fields else ""
        lines.append(f"  {ids[up]} -->{label} {ids[down]}")
    used = sorted({s for s in status.values() if s in COLOURS})
    for s in used:
        lines.append(f"  classDef {s} fill:{COLOURS[s]}")
    for name, s in status.items():
        if name in ids and s in COLOURS:
            lines.append(f"  class {ids[name]} {s}")
    return "\n".join(lines) + "\n"


def visualize(
    graph: Graph, filename: str | os.PathLike[str], status: Mapping[str, str] | None = None
) -> Path:
    """Write a picture of ``graph`` to ``filename``; the suffix picks the format.

    ``.dot``/``.gv`` (DOT text) and ``.mmd`` (Mermaid text) need nothing;
    any other suffix Graphviz knows (``.svg``, ``.png``, ``.pdf`` ...) is
    rendered by the ``dot`` program, and a missing ``dot`` raises
    ``RuntimeError`` saying how to install it.
    """
    path = Path(filename)
    suffix = path.suffix.lower()
    if suffix == ".mmd":
        path.write_text(to_mermaid(graph, status))
        return path
    dot_text = to_dot(graph, status)
    if suffix in TEXT_FORMATS:
        path.write_text(dot_text)
        return path
    if not suffix:
        raise ValueError(f"{path}: give a suffix (.svg, .png, .pdf, .dot or .mmd)")
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            f"rendering {path.name} needs Graphviz's `dot` program, which is not on PATH "
            "(apt-get install graphviz, brew install graphviz or conda install graphviz); "
            "or write .dot or .mmd text instead"
        )
    proc = subprocess.run(
        [exe, f"-T{suffix[1:]}", "-o", str(path)],
        input=dot_text,
        text=True,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dot could not render {path.name}: {proc.stderr.strip()}")
    return path
