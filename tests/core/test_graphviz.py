"""Pictures of a compiled graph: DOT and Mermaid texts, and an SVG through a real Graphviz."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ux_tasks import Nested, SumOfSquares

import plait
from plait.graphviz import to_dot, to_mermaid, visualize


def graph(cache: Path) -> plait.Graph:
    return plait.compile(SumOfSquares(xs=[1, 2, 3]), cache_root=cache)


def test_dot_has_nodes_edges_and_state(cache: Path) -> None:
    text = to_dot(graph(cache))
    assert text.startswith('digraph "SumOfSquares" {')
    assert '"Square" [label="Square\\n(python)\\nsplit x\\ncombine x"' in text
    assert '"Total" [label="Total\\n(python)"' in text
    assert '"Square" -> "Total" [label="out->values"];' in text


def test_mermaid_has_nodes_edges_and_state(cache: Path) -> None:
    text = to_mermaid(graph(cache))
    assert text.startswith("flowchart TD\n")
    assert 'n0["Square<br/>(python)<br/>split x<br/>combine x"]' in text
    assert 'n1["Total<br/>(python)"]' in text
    assert 'n0 -->|"out->values"| n1' in text


def test_outcome_colours(cache: Path) -> None:
    status = {"Square": "failed", "Total": "skipped"}
    assert '"Square" [label="Square\\n(python)\\nsplit x\\ncombine x", fillcolor="#f4a6a6"' in (
        to_dot(graph(cache), status)
    )
    mermaid = to_mermaid(graph(cache), status)
    assert "classDef failed fill:#f4a6a6" in mermaid and "class n0 failed" in mermaid


def test_nested_workflows_are_clusters(cache: Path) -> None:
    g = plait.compile(Nested(xs=[1, 2]), cache_root=cache)
    if not getattr(g, "groups", None):
        pytest.skip("compile() does not flatten nested workflows yet (graph.groups)")
    text = to_dot(g)
    assert 'subgraph "cluster_SumOfSquares" {' in text
    assert '"SumOfSquares.Square" [label="Square\\n(python)\\nsplit x' in text
    assert '"SumOfSquares.Total" -> "Double" [label="out->x"];' in text
    mermaid = to_mermaid(g)
    assert 'subgraph g0["SumOfSquares"]' in mermaid and 'n0["Square<br/>' in mermaid


def test_text_formats_need_no_graphviz(cache: Path, tmp_path: Path) -> None:
    assert visualize(graph(cache), tmp_path / "wf.dot").read_text() == to_dot(graph(cache))
    assert visualize(graph(cache), tmp_path / "wf.mmd").read_text() == to_mermaid(graph(cache))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_through_graphviz(cache: Path, tmp_path: Path) -> None:
    svg = visualize(graph(cache), tmp_path / "wf.svg").read_text()
    assert "<svg" in svg and "Square" in svg and "out&#45;&gt;values" in svg


def test_graph_methods_delegate(cache: Path, tmp_path: Path) -> None:
    g = graph(cache)
    assert g.to_dot() == to_dot(g) and g.to_mermaid({"Total": "done"}) == to_mermaid(
        g, {"Total": "done"}
    )
    assert g.visualize(tmp_path / "g.mmd").read_text() == to_mermaid(g)
