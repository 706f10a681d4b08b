"""Permission ids offline (issue 12, item 3): a role may use any id the site's catalogue has, so ids seen on
live sites pass, a typo of a known id is an error with "did you mean", an id unknown to the tool is a
warning (plan checks it against the live catalogue), and an individual grant takes the v1 pairs only."""
# ruff: noqa: E501 - expected messages are compared whole

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.policy.loader import load_policy_with_warnings

from .conftest import write_policy

TODAY = dt.date(2026, 12, 2)


def _role(perms: str) -> dict[str, str]:
    return {"roles.yaml": f"roles:\n  Curator: {{permissions: [{perms}]}}\n"}


def test_a_role_may_use_ids_seen_on_live_sites(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", _role("read/space, manage_templates/space, update/page"))
    desired, warnings = load_policy_with_warnings("p", today=TODAY)
    assert desired.roles["Curator"].permissions == frozenset(
        {"read/space", "manage_templates/space", "update/page"})
    assert warnings == []


def test_a_typo_of_a_live_id_is_an_error_with_did_you_mean(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", _role("read/space, manage_template/space"))
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings("p", today=TODAY)
    assert [str(p) for p in caught.value.problems] == [
        ("p/roles.yaml:2:39: roles.Curator.permissions[1]: unknown permission 'manage_template/space' "
        "(did you mean 'manage_templates/space'?)")
    ]


def test_an_id_the_tool_has_never_seen_is_a_warning_left_to_the_live_catalogue(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", _role("read/space, approve_drafts/space"))
    desired, warnings = load_policy_with_warnings("p", today=TODAY)
    assert "approve_drafts/space" in desired.roles["Curator"].permissions
    assert [str(w) for w in warnings] == [
        ("p/roles.yaml:2:39: warning: roles.Curator.permissions[1]: permission 'approve_drafts/space' is neither "
        "documented nor seen on live sites; plan checks it against the site's catalogue "
        "(GET /space-permissions)")
    ]


def test_an_individual_grant_of_a_catalogue_only_id_says_to_use_a_role(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"spaces/OPS.yaml": "spaces:\n  OPS:\n    assign: {group:space-admins: Admin}\n"
                                                    "    grants:\n      user:ann: [read/space, update/page]\n"})
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings("p", today=TODAY)
    assert [str(p) for p in caught.value.problems] == [
        ("p/spaces/OPS.yaml:5:30: spaces.OPS.grants.user:ann[1]: 'update/page' cannot be granted as an "
        "individual permission (v1 grants take only the documented key/target pairs); put it in a custom role")
    ]
