"""Whatever a policy file holds, the loader either loads it or raises PolicyError, never anything else."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import PolicyError
from reconciler.policy.loader import load_policy_with_warnings
from reconciler.policy.schema import TOP_LEVEL_KEYS

from .conftest import write_policy

KEYS = [
    *TOP_LEVEL_KEYS, "url", "model", "actor", "default_authority", "custom_role_limit", "owners",
    "protected", "min_admins_per_space", "max_removal_fraction", "account_id", "guest", "description",
    "permissions", "name", "keys", "exclude", "type", "assign", "grants", "authority", "apps", "org_id",
    "rules", "block", "only", "all_except", "max_role", "ignore", "space", "principal", "reason", "until",
    "ENG", "user:ann", "user:gus", "group:eng", "class:anonymous-users", "Viewer", "Admin",
]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.dates(),
    st.sampled_from(["none", "exact", "additive", "Admin", "Viewer", "read/space", "blocked", "all", "*",
                     "sandbox:x", "user:ann", "group:g", "class:anonymous-users", "roles", "legacy"]),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=25,
)
DOCUMENTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5)
TOKENS = st.lists(
    st.sampled_from(["roles", "spaces", ":", " ", "  ", "\n", "\t", "-", "&a", "*a", "[", "]", "{", "}",
                     ",", "!!str", "!x", "<<", "?", "|", ">", "'", '"', "#", "---", "...", "%YAML 1.1",
                     "2027-02-30", "0x1F", "1e9", "~", "\xff", "\x00", "\ufeff", "é"]),
    max_size=40,
).map("".join)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(content: str | bytes, name: str = "fuzz.yaml") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_policy(Path(tmp) / "p", {name: content})
        try:
            load_policy_with_warnings(root, today=dt.date(2026, 11, 23))
        except PolicyError as err:
            problems = err.problems
        else:
            return
    assert problems
    assert all("\n" not in str(problem) for problem in problems)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_only_policy_errors(content: bytes) -> None:
    _load(content)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_gives_only_policy_errors(content: str) -> None:
    _load(content)


@FUZZ
@given(TOKENS)
def test_yaml_token_soup_gives_only_policy_errors(content: str) -> None:
    _load(content)


@FUZZ
@given(DOCUMENTS, st.sampled_from(["fuzz.yaml", "spaces/ENG.yaml", "site.yaml", "people.yaml"]))
def test_arbitrary_policy_shaped_yaml_gives_only_policy_errors(document: dict[str, Any], name: str) -> None:
    _load(yaml.safe_dump(document, allow_unicode=True), name)


def test_a_top_level_key_with_a_line_break_is_shown_escaped_on_one_line() -> None:
    _load("? roles\n\n roles")  # found by test_yaml_token_soup_gives_only_policy_errors
