"""The fast YAML path (libyaml events) gives exactly the values and positions of the Python loader, and
hands everything unusual (aliases, tags, duplicates, errors) back to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import PolicyError
from reconciler.policy.yamlfast import fast_parse
from reconciler.policy.yamlpos import parse_yaml, parse_yaml_python

ROOT = Path(__file__).resolve().parents[2]


def _same(text: str) -> None:
    fast = fast_parse(text)
    assert fast is not None, "a plain document takes the fast path"
    value, positions = parse_yaml_python(text, "f.yaml")
    assert fast[0] == value
    assert type(fast[0]) is type(value)
    assert fast[1].values == positions.values
    assert fast[1].keys == positions.keys


EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "policies").rglob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES)
def test_every_example_policy_file_parses_the_same_on_both_paths(path: str) -> None:
    _same((ROOT / path).read_text(encoding="utf-8"))


scalars = st.one_of(
    st.text(max_size=12), st.integers(), st.booleans(), st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["yes", "NO", "~", "1.0", "0x1f", "2026-12-02", "null", "@x", "a: b", "#c", "é ü"]),
)
keys = st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(["1", "NO", "on", "null", "user:alice"]))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)


@pytest.mark.parametrize("text", ["a: 'it''s'\n", "a: |\n  x\n  y\n", "? a\n: b\n", "{a: [1, 2]}\n",
                                  "a: \"\\u00e9\"\n", "\ufeffa: 1\n", "", "# only a comment\n", "---\n"])
def test_edge_documents_parse_the_same_on_both_paths(text: str) -> None:
    _same(text)


@settings(max_examples=200, deadline=None)
@given(doc=documents, flow=st.sampled_from([False, True, None]), width=st.sampled_from([20, 80]))
def test_generated_documents_parse_the_same_on_both_paths(doc: Any, flow: bool | None, width: int) -> None:
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True, width=width)
    if fast_parse(text) is None:  # e.g. a key PyYAML writes with an explicit tag
        return
    _same(text)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # anchor and alias
    "a: 1\na: 2\n",  # duplicate key
    "a: !!binary aGk=\n",  # a tag the policy does not accept
    "<<: {a: 1}\n",  # merge key
    "a: 1\n---\nb: 2\n",  # two documents
    "a: [1\n",  # invalid
    "a: b: c\n",
    "a:\tb\n",  # libyaml reads a tab as a separator, PyYAML refuses it
    "a: \x85b\n",
    "- a\nb: c\n",
])
def test_unusual_documents_go_to_the_python_loader_with_the_same_outcome(text: str) -> None:
    assert fast_parse(text) is None
    assert _outcome(parse_yaml, text) == _outcome(parse_yaml_python, text)


def _outcome(parse: Any, text: str) -> Any:
    try:
        value, positions = parse(text, "f.yaml")
    except PolicyError as err:
        return str(err)
    return value, positions.values, positions.keys
