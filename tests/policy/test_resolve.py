"""Resolution into the frozen model, and applying defaults under space entries (effective_spaces)."""
# ruff: noqa: E501 - policy fixtures and expected messages read best on one line

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reconciler.live_state import SpaceInfo
from reconciler.model import (
    Authority,
    DesiredState,
    Principal,
    PrincipalKind,
    SiteModel,
    Source,
    SpaceSelector,
)
from reconciler.policy.loader import load_policy
from reconciler.policy.resolve import effective_spaces, managed_keys

from .conftest import write_policy

TODAY = dt.date(2026, 11, 23)
ANN = "5b10ac8d82e05b22cc7d4e01"
DEFAULTS = """\
defaults:
  - name: admins
    spaces: {keys: ["*"], exclude: ["~*"], type: [global]}
    assign:
      group:space-admins: Admin
      group:staff: Viewer
  - name: staff-edit
    spaces: {keys: ["ENG*"]}
    assign:
      group:staff: Collaborator
"""
ENG = """\
spaces:
  ENG:
    authority: additive
    assign:
      group:staff: none
      user:ann: Manager
    data_security: {app_access: block}
"""
APPS = "data_security:\n  org_id: org-1\n  defaults: {app_access: allow}\n"


def _load(root: Path, files: dict[str, str | bytes]) -> DesiredState:
    write_policy(root, files)
    return load_policy("p", today=TODAY)  # relative to in_tmp, so sources read p/...


def _space(key: str, space_type: str = "global") -> SpaceInfo:
    return SpaceInfo(key, f"id-{key}", key.title(), space_type)


def test_people_handles_resolve_to_account_ids_labelled_with_the_handle(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"spaces/ENG.yaml": ENG, "apps.yaml": APPS})
    (assignment,) = [a for a in desired.spaces["ENG"].assignments if a.role == "Manager"]
    assert assignment.principal == Principal(PrincipalKind.USER, ANN)
    assert assignment.principal.display == "user:ann"
    assert assignment.source == Source("p/spaces/ENG.yaml", 6, 7)


def test_a_raw_account_id_is_accepted_and_labelled_when_a_person_has_it(in_tmp: Path) -> None:
    eng = f"spaces:\n  ENG:\n    assign:\n      user:{ANN}: Admin\n      user:557058:0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f: Viewer\n"
    desired = _load(in_tmp / "p", {"spaces/ENG.yaml": eng})
    labels = {a.principal.id: a.principal.label for a in desired.spaces["ENG"].assignments}
    assert labels == {ANN: "ann", "557058:0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f": None}


def test_site_actor_safety_and_deleted_roles_are_resolved(in_tmp: Path) -> None:
    files = {"safety.yaml": "safety:\n  protected: [group:admins, class:all-product-admins]\n",
             "roles.yaml": "roles:\n  Old: none\n  Reader: {permissions: [read/space]}\n"}
    desired = _load(in_tmp / "p", files)
    assert desired.site.actor == Principal(PrincipalKind.USER, "5b10ac8d82e05b22cc7d4e00", label="bot")
    assert desired.site.model is SiteModel.AUTO
    assert desired.site.source == Source("p/site.yaml", 2, 1)
    assert desired.safety.protected == (Principal(PrincipalKind.GROUP, "admins"),
                                        Principal(PrincipalKind.CLASS, "all-product-admins"))
    assert set(desired.roles) == {"Reader"}
    assert desired.deleted_roles == {"Old": Source("p/roles.yaml", 2, 3)}
    assert desired.guests == frozenset({"5b10ac8d82e05b22cc7d4e02"})


def test_defaults_are_kept_as_selectors(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"defaults.yaml": DEFAULTS})
    assert [rule.name for rule in desired.defaults] == ["admins", "staff-edit"]
    assert desired.defaults[0].selector == SpaceSelector(("*",), ("~*",), ("global",))
    assert desired.defaults[0].source == Source("p/defaults.yaml", 2, 5)


def test_the_digest_changes_when_any_file_changes(in_tmp: Path) -> None:
    first = _load(in_tmp / "p", {}).digest
    again = _load(in_tmp / "p", {}).digest
    changed = _load(in_tmp / "p", {"roles.yaml": "roles: {}\n"}).digest
    assert first == again
    assert changed != first
    assert len(first) == 64


def test_space_entry_wins_over_defaults_for_each_principal_it_names(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"defaults.yaml": DEFAULTS, "spaces/ENG.yaml": ENG, "apps.yaml": APPS})
    eng = effective_spaces(desired, [_space("ENG")])["ENG"]
    roles = {p.display: (a.role, str(a.source)) for p, a in eng.assignments.items()}
    assert roles == {
        "group:staff": (None, "p/spaces/ENG.yaml:5"),  # none in the space entry beats both defaults
        "user:ann": ("Manager", "p/spaces/ENG.yaml:6"),
        "group:space-admins": ("Admin", "p/defaults.yaml:5"),
    }
    assert eng.authority is Authority.ADDITIVE
    assert [(c.rule.value, c.effect.value, c.subject, str(c.source)) for c in eng.controls] == [
        ("appAccess", "block", "all_apps", "p/spaces/ENG.yaml:7")]
    assert eng.declared_at == Source("p/spaces/ENG.yaml", 2, 3)
    assert eng.defaults == ("admins", "staff-edit")


def test_a_later_defaults_rule_wins_over_an_earlier_one(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"defaults.yaml": DEFAULTS})
    eng = effective_spaces(desired, [_space("ENG-DOCS")])["ENG-DOCS"]
    staff = Principal(PrincipalKind.GROUP, "staff")
    assert eng.assignments[staff].role == "Collaborator"
    assert str(eng.assignments[staff].source) == "p/defaults.yaml:10"


def test_spaces_matched_only_by_defaults_get_the_site_default_authority(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"defaults.yaml": DEFAULTS})
    ops = effective_spaces(desired, [_space("OPS")])["OPS"]
    assert ops.authority is Authority.EXACT
    assert ops.declared_at is None
    assert ops.grants == {}
    assert ops.controls == ()


def test_a_declared_space_without_authority_gets_the_site_default(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"spaces/HR.yaml": "spaces:\n  HR:\n    assign: {group:space-admins: Admin}\n"})
    assert effective_spaces(desired, [_space("HR")])["HR"].authority is Authority.EXACT


def test_spaces_matched_by_nothing_are_unmanaged(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"defaults.yaml": DEFAULTS, "spaces/ENG.yaml": ENG, "apps.yaml": APPS})
    infos = [_space("ENG"), _space("OPS"), _space("~ann", "personal"), _space("KB", "knowledge_base")]
    assert list(effective_spaces(desired, infos)) == ["ENG", "OPS"]
    assert managed_keys(desired, infos) == {"ENG", "OPS"}


def test_a_declared_space_the_site_does_not_list_is_not_in_the_result(in_tmp: Path) -> None:
    desired = _load(in_tmp / "p", {"spaces/ENG.yaml": ENG, "apps.yaml": APPS})
    assert effective_spaces(desired, [_space("OPS")]) == {}


def test_grants_come_from_the_space_entry(in_tmp: Path) -> None:
    ops = "spaces:\n  OPS:\n    assign: {group:space-admins: Admin}\n    grants:\n      group:g: [read/space, create/page]\n      group:old: none\n"
    desired = _load(in_tmp / "p", {"spaces/OPS.yaml": ops})
    grants = effective_spaces(desired, [_space("OPS")])["OPS"].grants
    assert {p.id: sorted(g.permissions) for p, g in grants.items()} == {
        "g": ["create/page", "read/space"], "old": []}


def test_the_example_policies_resolve(monkeypatch_repo_root: Path) -> None:
    desired = load_policy("policies", today=TODAY)
    assert sorted(desired.spaces) == ["DOCS", "ENG", "FIN", "HR", "LEGAL", "OPS", "PUBLIC"]
    assert desired.data_security is not None
    assert [(c.rule.value, c.effect.value) for c in desired.data_security.defaults] == [
        ("appAccess", "allow"), ("export", "allow"), ("publicLinks", "block"), ("anonymousAccess", "block"),
        ("attachmentDownload", "allow"), ("appAccess", "block")]
