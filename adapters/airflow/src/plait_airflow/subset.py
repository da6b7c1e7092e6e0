"""Rendering a subset of a workflow: ``to_dag(defn, select=[...], exclude=[...])``.

Selectors are node names with graph operators, as in astronomer-cosmos and dbt:

- ``"Sum"``: the node itself;
- ``"+Sum"``: Sum and every node upstream of it;
- ``"Sum+"``: Sum and every node downstream of it;
- ``"+Sum+"``: both.

The DAG renders the nodes ``select`` picks (every node when it is empty) minus
those ``exclude`` picks. A rendered node whose upstream node is not rendered
reads that node's output from the cache: it must have run before (under any
host, on the same cache); otherwise its task fails naming the missing jobs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from plait import Graph, Node

__all__ = ["select_nodes"]


def _closure(start: str, edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        for nxt in edges.get(name, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _pick(
    selector: str,
    nodes: Mapping[str, Node],
    downstream: Mapping[str, list[str]],
    where: str,
) -> set[str]:
    name = selector.strip()
    up = name.startswith("+")
    down = name.endswith("+")
    name = name.strip("+")
    if name not in nodes:
        raise ValueError(
            f"{where}: no node {name!r} (from selector {selector!r}); nodes: {', '.join(nodes)}"
        )
    picked = {name}
    if up:
        picked |= _closure(name, {n: node.upstream for n, node in nodes.items()})
    if down:
        picked |= _closure(name, downstream)
    return picked


def select_nodes(
    graph: Graph,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    where: str = "to_dag",
) -> list[str]:
    """The names of the nodes to render, in the graph's (topological) order."""
    if isinstance(select, str) or isinstance(exclude, str):
        raise TypeError(f"{where}: select= and exclude= take lists of selectors, not a string")
    nodes, downstream = graph.nodes, graph.downstream
    chosen: set[str] = set(nodes) if not select else set()
    for sel in select:
        chosen |= _pick(sel, nodes, downstream, where)
    for sel in exclude:
        chosen -= _pick(sel, nodes, downstream, where)
    if not chosen:
        raise ValueError(f"{where}: select={list(select)} exclude={list(exclude)} leave no node")
    return [n for n in nodes if n in chosen]
