"""Guest reach: which spaces each guest sees, and through which assignment or access class."""

from __future__ import annotations

from dataclasses import replace

from reconciler.drift.guest_reach import guest_reach
from reconciler.live_state import LiveSpace, SpaceInfo
from reconciler.model import Person, Principal, PrincipalKind, Source
from tests.plan.data_security_builders import desired, live

GINA = "5b10a2844c20165700ede21a"
SRC = Source("policies/people.yaml", 9)


def user(account: str) -> Principal:
    return Principal(PrincipalKind.USER, account)


def group(name: str) -> Principal:
    return Principal(PrincipalKind.GROUP, name)


def klass(name: str) -> Principal:
    return Principal(PrincipalKind.CLASS, name)


def space(key: str, assignments: dict[Principal, str], grants: dict[Principal, dict[str, int]] | None = None,
          ) -> LiveSpace:
    return LiveSpace(SpaceInfo(key, f"{len(key)}00", key, "global"), assignments, grants or {})


def state_with(*spaces: LiveSpace):  # type: ignore[no-untyped-def]
    return replace(live([]), spaces={s.key: s for s in spaces})


def test_guest_reach_names_direct_class_and_group_paths() -> None:
    policy = desired(people=[Person("gina", GINA, True, SRC), Person("alice", "a1", False, SRC)])
    site = state_with(
        space("DOCS", {user(GINA): "Viewer", group("engineering"): "Collaborator"}),
        space("PUBLIC", {klass("anonymous-users"): "Viewer"}),
        space("WIKI", {klass("all-licensed-users"): "Viewer", klass("all-product-admins"): "Admin"}),
        space("OPS", {}, {user(GINA): {"read/space": 11, "create/comment": 12}}),
    )
    [reach] = guest_reach(policy, site)
    assert reach.handle == "gina"
    assert reach.spaces == ("DOCS", "OPS", "PUBLIC")
    assert reach.possible_spaces == ("WIKI",)
    assert reach.lines() == [
        "user:gina: 3 space(s), 1 more possible",
        "  a single-space guest is assigned 2 spaces: DOCS, OPS",
        "  DOCS: Viewer directly",
        "  OPS: create/comment, read/space directly (custom access)",
        "  PUBLIC: Viewer through class:anonymous-users",
        ("  possibly through class:all-licensed-users, if guests count as licensed users (not documented): "
         "WIKI"),
        "  possibly through groups (memberships are not read): DOCS",
    ]


def test_a_guest_with_one_space_has_no_warning() -> None:
    policy = desired(people=[Person("gina", GINA, True, SRC)])
    [reach] = guest_reach(policy, state_with(space("DOCS", {user(GINA): "Viewer"})))
    assert reach.warnings == ()
    assert reach.to_json() == {
        "guest": "gina", "account_id": GINA, "spaces": ["DOCS"], "possible_spaces": [],
        "assigned_spaces": ["DOCS"], "warnings": [],
        "paths": [{"space": "DOCS", "via": "user", "principal": "user:gina", "access": "Viewer",
                   "certain": True, "note": ""}],
    }


def test_people_who_are_not_guests_are_not_listed() -> None:
    policy = desired(people=[Person("alice", "a1", False, SRC)])
    assert guest_reach(policy, state_with(space("DOCS", {user("a1"): "Admin"}))) == []


def test_with_group_members_read_guest_reach_through_groups_is_exact() -> None:
    from reconciler.live_state import GroupMembers, Member

    policy = desired(people=[Person("gina", GINA, True, SRC)])
    site = state_with(
        space("DOCS", {group("engineering"): "Collaborator"}),
        space("OPS", {group("contractors"): "Viewer"}),
        space("OLD", {group("gone"): "Viewer"}),
    )
    members = {
        "engineering": GroupMembers("engineering", "g1", (Member("a1"),)),
        "contractors": GroupMembers("contractors", "g2", (Member(GINA, "Gina", guest=True),)),
        "gone": GroupMembers("gone", "g3", (), missing=True),
    }
    [reach] = guest_reach(policy, site, members)
    assert reach.spaces == ("OPS",)
    assert reach.possible_spaces == ("OLD",)
    assert reach.lines() == [
        "user:gina: 1 space(s), 1 more possible",
        "  OPS: Viewer through group:contractors",
        "  possibly through group:gone, if a member of the group (the site cannot name its members): OLD",
    ]
