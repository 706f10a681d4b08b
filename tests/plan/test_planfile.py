"""The saved plan: round trip, stable fingerprint, one-line errors for bad files."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import PlanFileError
from reconciler.fingerprint import fingerprint
from reconciler.model import (
    Authority,
    DataSecurityPolicy,
    DsRule,
    Effect,
    Principal,
    PrincipalKind,
    RoleDef,
    Source,
)
from reconciler.plan.changes import (
    ACCESS_CHANGES,
    GRANT_KINDS,
    AppPolicyChange,
    AssignmentChange,
    GrantChange,
    Replacement,
    RoleChange,
    SiteRole,
)
from reconciler.plan.data_security import LOOSENS
from reconciler.plan.plan import Plan, PlannedSpace, SafetyCheck, SafetyFinding
from reconciler.plan.planfile import dump_plan, iter_plan, load_plan
from tests.plan.factory import live, live_space

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
sources = st.none() | st.builds(Source, text, st.integers(1, 9999), st.integers(1, 200))
principals = st.builds(
    Principal, st.sampled_from(PrincipalKind), text.filter(bool), st.none() | text.filter(bool), st.booleans()
)
role_defs = st.builds(
    RoleDef, text, text, st.frozensets(st.sampled_from(["read/space", "create/page"])), sources, st.booleans()
)
app_policies = st.builds(
    DataSecurityPolicy, st.sampled_from(DsRule), st.sampled_from(Effect), text, text, st.tuples(text), text,
    text, st.none() | text, sources,
)
perms = st.lists(st.sampled_from(["read/space", "create/page", "administer/space"]), unique=True)
replacements = st.builds(Replacement.of, perms, perms)
def either(values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    """An (old, new) pair with at least one side set."""
    return st.tuples(st.none() | values, st.none() | values).filter(lambda pair: pair != (None, None))


assignments = st.builds(
    lambda space, who, pair, source, reason: AssignmentChange(
        space, who, pair[1], pair[0], None, source, reason),
    text, principals, either(text), sources, text,
)
# the typed facts (replaces, loosens) travel in fields of their own: any reason text, even one that reads
# like another fact's wording, leaves them as they were
replacing = st.builds(
    lambda c, r, reason: replace(c, old_role=None, role=c.role or "Viewer", replaces=r, reason=reason),
    assignments, replacements, text | st.sampled_from(["", "kept: protected principal", f"{LOOSENS}: x"]),
)
grants = st.builds(
    GrantChange, st.sampled_from(GRANT_KINDS), text, principals, text, st.none() | st.integers(0, 2**40),
    sources, text,
)
role_changes = st.builds(
    lambda pair, source, reason: RoleChange(pair[1], pair[0], source, reason),
    st.tuples(st.none() | st.builds(SiteRole, role_defs, text), st.none() | role_defs).filter(
        lambda pair: pair != (None, None)),
    sources, text,
)
app_changes = st.builds(
    lambda pair, source, reason, loosens: AppPolicyChange(pair[1], pair[0], source, reason, loosens=loosens),
    either(app_policies), sources,
    text | st.sampled_from([f"{LOOSENS}: x", "replaces individual permissions a"]), st.booleans(),
)
changes = st.one_of(assignments, replacing, grants, role_changes, app_changes)
plans = st.builds(
    Plan,
    site=text,
    mode=text,
    policy_digest=text,
    fingerprint=text,
    spaces=st.lists(
        st.builds(PlannedSpace, text, text, st.sampled_from(Authority), sources,
                  st.lists(text, max_size=2).map(tuple)),
        max_size=2,
    ).map(tuple),
    changes=st.lists(changes, max_size=4).map(tuple),
    findings=st.lists(
        st.builds(SafetyFinding, st.sampled_from(SafetyCheck), text, st.none() | text)
    ).map(tuple),
    live_assignments=st.integers(0, 10**6),
    scope=st.lists(text).map(tuple),
    held=st.lists(changes, max_size=2).map(tuple),
    notes=st.lists(text, max_size=2).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(plans)
def test_any_plan_survives_a_round_trip(plan: Plan) -> None:
    loaded = load_plan(dump_plan(plan))
    assert loaded == plan
    assert [c.principal.label if isinstance(c, ACCESS_CHANGES) else None for c in loaded.changes] == [
        c.principal.label if isinstance(c, ACCESS_CHANGES) else None for c in plan.changes
    ]


@settings(max_examples=150, deadline=None)
@given(plans)
def test_plan_file_is_written_exactly_as_json_dumps_would_write_its_document(plan: Plan) -> None:
    # The plan file is written in pieces, changes without the pure-Python indenting encoder; its bytes must
    # stay those of json.dumps(indent=2, sort_keys=True, ensure_ascii=False), so format 1 files never move.
    text_ = dump_plan(plan)
    assert text_ == json.dumps(json.loads(text_), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "".join(iter_plan(plan)) == text_


def test_plan_file_with_no_changes_writes_empty_lists() -> None:
    plan = load_plan(dump_plan(Plan("s", "ROLES", "d", "f", (), ())))
    assert dump_plan(plan).count('": []') >= 5  # changes, held, findings, spaces, scope (notes too)


def test_plan_file_carries_version_summary_and_sources() -> None:
    plan = Plan(
        "sandbox:demo", "ROLES", "sha256:p", "sha256:f",
        (PlannedSpace("ENG", "1", Authority.EXACT, Source("policies/spaces/ENG.yaml", 3)),),
        (AssignmentChange("ENG", Principal(PrincipalKind.GROUP, "eng"), "Viewer",
                source=Source("policies/spaces/ENG.yaml", 7, 7)),),
    )
    doc = json.loads(dump_plan(plan))
    assert doc["format_version"] == 1
    assert doc["summary"]["assign"] == 1
    assert doc["changes"] == [{
        "kind": "assign", "symbol": "+", "space": "ENG", "principal": {"ref": "group:eng"}, "role": "Viewer",
        "source": {
            "file": "policies/spaces/ENG.yaml", "line": 7, "column": 7, "at": "policies/spaces/ENG.yaml:7",
        },
    }]


def test_fingerprint_is_stable_and_sensitive_to_the_scope_only() -> None:
    a = live(live_space("ENG", assign={"user:1": "Admin", "group:b": "Viewer"}), live_space("OPS"))
    b = live(live_space("OPS"), live_space("ENG", assign={"group:b": "Viewer", "user:1": "Admin"}))
    changed = live(live_space("ENG", assign={"user:1": "Admin"}), live_space("OPS"))
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(changed)
    assert fingerprint(a, scope=["OPS"]) == fingerprint(changed, scope=["OPS"])
    assert fingerprint(a) == "sha256:" + fingerprint(a).removeprefix("sha256:")


BAD = {
    "not json": ("{", ("plan file is not valid JSON: Expecting property name enclosed in double quotes: "
                      "line 1 column 2 (char 1)")),
    "other version": ('{"format_version": 2}',
                      "plan file has format_version 2; this reconciler reads format_version 1"),
    "missing field": ('{"format_version": 1}', "plan file: plan.site: missing"),
    "not an object": ("[]", "plan file: plan: expected an object"),
}


@pytest.mark.parametrize(("text_", "message"), BAD.values(), ids=BAD.keys())
def test_bad_plan_file_is_one_line_error(text_: str, message: str) -> None:
    with pytest.raises(PlanFileError) as exc:
        load_plan(text_)
    assert str(exc.value) == message


def test_unknown_change_kind_is_one_line_error() -> None:
    eng = AssignmentChange("ENG", Principal(PrincipalKind.GROUP, "eng"), "Viewer")
    doc = json.loads(dump_plan(Plan("s", "ROLES", "d", "f", (), (eng,))))
    doc["changes"][0]["kind"] = "explode"
    with pytest.raises(PlanFileError) as exc:
        load_plan(json.dumps(doc))
    assert str(exc.value) == "plan file: unknown value 'EXPLODE'"
