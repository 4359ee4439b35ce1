"""Reading stack files: bounded work for any input, repeated keys refused with both lines."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components.offline import strict_yaml
from components.offline.strict_yaml import (
    MAX_NODES,
    YamlProblem,
    expanded_nodes,
    load_document,
    nesting_depth,
)


def _bomb(levels: int, width: int = 9) -> str:
    """The classic "billion laughs": each level repeats the one before `width` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _count(value: Any) -> int:
    """Nodes of a loaded value, aliases written out (keys count as nodes, as events do)."""
    if isinstance(value, dict):
        return 1 + sum(1 + _count(item) for item in value.values())
    if isinstance(value, list):
        return 1 + sum(_count(item) for item in value)
    return 1


def test_an_alias_bomb_is_refused_before_any_object_is_built(monkeypatch) -> None:
    built = []
    monkeypatch.setattr(strict_yaml, "_StrictLoader", lambda text: built.append(text))
    text = _bomb(9)
    assert len(text) < 600
    with pytest.raises(YamlProblem, match="aliases expand the document beyond"):
        load_document(text)
    assert built == []


def test_the_work_to_refuse_a_bomb_is_bounded_by_the_budget_not_the_expansion() -> None:
    # 9**12 nodes written out; the count stops at the first event past the budget.
    assert expanded_nodes(_bomb(12), MAX_NODES) <= 10 * MAX_NODES
    tracemalloc.start()
    try:
        with pytest.raises(YamlProblem):
            load_document(_bomb(12))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20


def test_aliases_within_the_budget_load() -> None:
    assert load_document("a: &x [1, 2]\nb: *x\nc: {<<: {k: 1}, k: 2}\n") == {
        "a": [1, 2],
        "b": [1, 2],
        "c": {"k": 2},
    }


_scalars = st.one_of(st.integers(), st.booleans(), st.text(alphabet="abc xyz", max_size=5))
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="kqw", min_size=1, max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(value=_values, repeats=st.integers(min_value=1, max_value=4))
@settings(max_examples=60, deadline=None)
def test_the_expansion_count_is_the_size_of_the_written_out_document(value, repeats) -> None:
    anchored = yaml.safe_dump({"base": value}, default_flow_style=True).strip()[1:-1]
    anchored = anchored.replace("base: ", "base: &b ", 1)
    text = "{" + anchored + ", copies: [" + ", ".join(["*b"] * repeats) + "]}"
    loaded = yaml.safe_load(text)
    assert expanded_nodes(text, 10**9) == _count(loaded)


def test_deep_nesting_is_refused_without_recursion() -> None:
    with pytest.raises(YamlProblem, match="nests 5001 levels deep"):
        load_document("a: " + "[" * 5000 + "]" * 5000)
    assert nesting_depth({"a": [[1]]}) == 3


def test_repeated_keys_name_both_lines() -> None:
    with pytest.raises(YamlProblem) as caught:
        load_document("config:\n  a: 1\n  b: 2\n  a: 3\n  c: {x: 1, x: 2}\n")
    message = str(caught.value)
    assert "line 4: key 'a' repeats the key at line 2" in message
    assert "line 5: key 'x' repeats the key at line 5" in message


def test_tabs_are_called_tabs() -> None:
    with pytest.raises(YamlProblem, match="line 2, column 1: a tab character"):
        load_document("config:\n\ta: 1\n")
