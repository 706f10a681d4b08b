"""Policies that look risky but are valid, and the edges of the offline minimum-admins check."""
# ruff: noqa: E501 - policy fixtures read best on one line

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.policy.loader import load_policy_with_warnings

from .conftest import write_policy

TODAY = dt.date(2026, 11, 23)
ADMIN_DEFAULT = "defaults:\n  - name: base\n    spaces: {keys: ['E*'], type: [collaboration]}\n    assign: {group:space-admins: Admin}\n"


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"defaults.yaml": ADMIN_DEFAULT, "spaces/ENG.yaml": "spaces:\n  ENG:\n    assign: {group:eng: Collaborator}\n"},
                     id="an admin from a defaults rule whose keys match counts, whatever its type"),
        pytest.param({"spaces/ENG.yaml": "spaces:\n  ENG:\n    authority: additive\n    assign: {group:eng: Collaborator}\n"},
                     id="an additive space needs no admin"),
        pytest.param({"roles.yaml": "roles:\n  Owner: {permissions: [read/space, administer/space]}\n", "spaces/ENG.yaml": "spaces:\n  ENG:\n    assign: {group:eng: Owner}\n"},
                     id="a custom role with administer/space counts as admin"),
        pytest.param({"spaces/OPS.yaml": "spaces:\n  OPS:\n    grants:\n      group:ops: [read/space, administer/space]\n"},
                     id="a grant of administer/space counts as admin"),
        pytest.param({"safety.yaml": "safety: {min_admins_per_space: 0}\n", "spaces/ENG.yaml": "spaces:\n  ENG:\n    assign: {group:eng: Viewer}\n"},
                     id="min_admins_per_space 0 turns the check off"),
        pytest.param({"ds.yaml": "data_security:\n  org_id: org-1\n  defaults: {app_access: allow, export: block}\n",
                      "spaces/ENG.yaml": "spaces:\n  ENG:\n    assign: {group:space-admins: Admin}\n    data_security: {app_access: block, export: allow}\n"},
                     id="a space overrides org defaults in its own file"),
        pytest.param({"guests.yaml": "guests: {max_role: Viewer}\n", "spaces/DOCS.yaml": "spaces:\n  DOCS:\n    authority: additive\n    assign: {user:gus: Viewer, class:anonymous-users: Viewer}\n"},
                     id="a guest and anonymous users may view and comment"),
        pytest.param({"spaces/ENG.yaml": "spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      user:gus: none\n      class:anonymous-users: none\n"},
                     id="none is always allowed, for guests and anonymous users too"),
        pytest.param({"spaces/NO.yaml": "spaces:\n  NO:\n    assign: {group:space-admins: Admin}\n"},
                     id="a space key YAML would read as false stays text"),
    ],
)
def test_valid_policy(in_tmp: Path, files: dict[str, str | bytes]) -> None:
    write_policy(in_tmp / "p", files)
    _, warnings = load_policy_with_warnings("p", today=TODAY)
    assert warnings == []


def test_a_space_setting_the_default_admin_to_none_has_no_admin(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"defaults.yaml": ADMIN_DEFAULT,
                                "spaces/ENG.yaml": "spaces:\n  ENG:\n    assign: {group:space-admins: none, group:eng: Viewer}\n"})
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings("p", today=TODAY)
    assert str(caught.value) == (
        "p/spaces/ENG.yaml:2:3: spaces: space 'ENG' has 0 admin(s) besides the actor under exact authority, "
        "fewer than safety.min_admins_per_space (1)"
    )


def test_an_excluded_key_gets_no_admin_from_the_defaults(in_tmp: Path) -> None:
    defaults = "defaults:\n  - name: base\n    spaces: {keys: ['*'], exclude: ['E*']}\n    assign: {group:space-admins: Admin}\n"
    write_policy(in_tmp / "p", {"defaults.yaml": defaults, "spaces/ENG.yaml": "spaces:\n  ENG:\n    assign: {group:eng: Viewer}\n"})
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings("p", today=TODAY)
    assert [p.message for p in caught.value.problems] == [
        "space 'ENG' has 0 admin(s) besides the actor under exact authority, fewer than safety.min_admins_per_space (1)"
    ]


def test_all_problems_of_all_files_come_sorted_in_one_error(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {
        "b.yaml": "roles:\n  R: {permissions: [read/spce]}\n",
        "a.yaml": "spaces:\n  X:\n    authority: additive\n    assign: {user:nobody: Viewer, group:g: Vewer}\n",
        "empty.yaml": "",
    })
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings("p", today=TODAY)
    assert [str(p) for p in caught.value.problems] == [
        ("p/a.yaml:4:14: spaces.X.assign: unknown person 'nobody'; add it under `people:` in p/people.yaml "
        "(handle: account id)"),
        "p/a.yaml:4:44: spaces.X.assign: unknown role 'Vewer' (did you mean 'Viewer'?)",
        "p/b.yaml:2:21: roles.R.permissions[0]: unknown permission 'read/spce' (did you mean 'read/space'?)",
        "p/empty.yaml:1:1: warning: empty file",
    ]
    assert str(caught.value).count("\n") == 2  # the message lists errors only
