"""Labels render state as text at the edges and parse back to the same pairs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plait.labels import parse_label, parse_state, render_label, render_state, render_value

fields = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
nodes = st.from_regex(
    r"[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,8}){0,2}", fullmatch=True
)
values = st.text(max_size=30)


@given(nodes, st.lists(st.tuples(fields, values), max_size=5))
def test_parse_label_inverts_render_label(node: str, pairs: list[tuple[str, str]]) -> None:
    state = tuple(pairs)
    assert parse_label(render_label(node, state)) == (node, state)


def test_values_with_separators_are_quoted() -> None:
    state = (("a", "1"), ("b", "x,y][\"z'"))
    text = render_label("Pair", state)
    assert text == 'Pair[a=1,b="x,y][\\"z\'"]'
    assert parse_label(text) == ("Pair", state)
    assert render_state((("s", ""), ("t", " padded "))) == 's="",t=" padded "'


def test_plain_label() -> None:
    assert render_label("Sum", ()) == "Sum"
    assert parse_label("Sum") == ("Sum", ())
    assert render_label("Inner.Add", (("x", "3"),)) == "Inner.Add[x=3]"


@pytest.mark.parametrize("bad", ["x", "x=1,", "=1", 'x="1"y'])
def test_malformed_state_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a state label"):
        parse_state(bad)


def test_render_value_is_short() -> None:
    assert render_value(3) == "3"
    assert render_value("abc") == "abc"
    assert render_value("x" * 40) == "x" * 23 + "…"
