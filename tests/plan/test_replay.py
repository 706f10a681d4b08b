"""The one definition of "after": changes replayed onto a live space; whether a re-read shows a change."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.live_state import LiveRole, LiveSpace, SpaceInfo
from reconciler.model import RoleDef
from reconciler.plan.changes import (
    AccessChange,
    AssignmentChange,
    ChangeKind,
    GrantChange,
    Replacement,
    RoleChange,
    SiteRole,
)
from reconciler.plan.replay import SpaceAccess, replay, role_shows, shows
from reconciler.vocabulary import COMPANIONS
from tests.plan.factory import live_space, p

A, B, SVC = p("group:a"), p("group:b"), p("user:svc")
ROLES = ["Admin", "Manager", "Viewer"]
PERMS = ["read/space", "create/page", "administer/space", "update/page", "export_content/space"]
REFS = ["group:a", "group:b", "user:svc"]


def test_role_changes_set_change_and_remove_the_role() -> None:
    space = live_space(assign={"group:a": "Viewer", "group:b": "Manager"})
    after = replay(space, [
        AssignmentChange("ENG", A, "Manager", "Viewer"),
        AssignmentChange("ENG", B, None, "Manager"),
        AssignmentChange("ENG", SVC, "Admin"),
    ])
    assert after.roles == {A: "Manager", SVC: "Admin"}
    assert space.assignments == {A: "Viewer", B: "Manager"}  # the live read is left as it was


def test_a_role_assigned_on_a_transition_site_replaces_the_individual_permissions() -> None:
    space = live_space(grants={"group:a": ("read/space", "administer/space"), "group:b": ("read/space",)})
    replacing = AssignmentChange("ENG", A, "Viewer", replaces=Replacement.of(["read/space"], []))
    after = replay(space, [replacing])
    assert after.roles == {A: "Viewer"}
    assert after.grants == {B: {"read/space"}}


def test_revoking_read_space_drops_every_permission_and_another_revoke_drops_one_with_its_rows() -> None:
    space = live_space(grants={"group:a": ("read/space", "administer/space"),
                               "group:b": ("read/space", "create/page", "update/page")})
    after = replay(space, [
        GrantChange(ChangeKind.REVOKE, "ENG", A, "read/space", 1),
        GrantChange(ChangeKind.REVOKE, "ENG", B, "create/page", 2),
        GrantChange(ChangeKind.GRANT, "ENG", SVC, "read/space"),
    ])
    assert after.grants == {A: set(), B: {"read/space"}, SVC: {"read/space"}}


def test_a_site_without_roles_or_permissions_starts_the_space_with_none() -> None:
    space = live_space(assign={"group:a": "Admin"}, grants={"group:b": ("administer/space",)})
    unknown = dict[str, frozenset[str]]().get  # roles' permissions unknown: only "Admin" counts
    assert replay(space, ()).admins(unknown) == {A, B}
    assert replay(space, (), roles=False).admins(unknown) == {B}
    assert replay(space, (), grants=False).admins(unknown) == {A}
    assert replay(space, [AssignmentChange("ENG", SVC, "Admin")], roles=False, grants=False).roles == {
        SVC: "Admin"}


def test_admins_hold_the_admin_role_or_administer_space() -> None:
    access = SpaceAccess({A: "Admin", B: "Manager"}, {SVC: {"read/space", "administer/space"}, B: {"x"}})
    assert access.admins({}.get) == {A, SVC}


def test_an_admin_is_anyone_whose_role_includes_administer_space_custom_roles_too() -> None:
    roles = {"Admin": frozenset({"administer/space"}), "Manager": frozenset({"read/space"}),
             "Space Owner": frozenset({"administer/space", "read/space"})}
    access = SpaceAccess({A: "Space Owner", B: "Manager"}, {})
    assert access.admins(roles.get) == {A}


def _spec(space: LiveSpace, change: AccessChange) -> bool:
    """What a re-read must show for each kind (docs/apply.md, verification)."""
    if isinstance(change, GrantChange):
        held = space.grants.get(change.principal, {})
        if change.kind is ChangeKind.GRANT:
            return change.permission in held
        # a revoked grant takes the rows that came with it: one left behind shows as a grant of its own
        companions = COMPANIONS.get(change.permission, frozenset())
        return change.permission not in held and not companions & set(held)
    if change.role is None:
        return change.principal not in space.assignments
    return space.assignments.get(change.principal) == change.role


access_changes = st.one_of(
    st.builds(lambda ref, role, old: AssignmentChange("ENG", p(ref), role, old),
              st.sampled_from(REFS), st.none() | st.sampled_from(ROLES), st.sampled_from(ROLES)),
    st.builds(lambda ref, role: AssignmentChange("ENG", p(ref), role),
              st.sampled_from(REFS), st.sampled_from(ROLES)),
    st.builds(lambda kind, ref, perm: GrantChange(kind, "ENG", p(ref), perm),
              st.sampled_from([ChangeKind.GRANT, ChangeKind.REVOKE]), st.sampled_from(REFS),
              st.sampled_from(PERMS)),
)
spaces = st.builds(
    lambda assign, grants: live_space(assign=assign, grants=grants),
    st.dictionaries(st.sampled_from(REFS), st.sampled_from(ROLES)),
    st.dictionaries(st.sampled_from(REFS), st.lists(st.sampled_from(PERMS), unique=True).map(tuple)),
)


@settings(max_examples=300, deadline=None)
@given(spaces, access_changes)
def test_a_read_shows_a_change_exactly_when_replaying_it_changes_nothing_it_is_about(
    space: LiveSpace, change: AccessChange
) -> None:
    assert shows(space, change) == _spec(space, change)
    after = replay(space, [change])
    reread = LiveSpace(space.info, after.roles,
                       {who: dict.fromkeys(perms, 1) for who, perms in after.grants.items()})
    assert shows(reread, change)  # once made, the change shows


def test_a_role_change_shows_when_the_site_lists_the_role_as_the_policy_declares_it() -> None:
    new = RoleDef("Ops", "Runs things", frozenset({"read/space", "create/page"}))
    old = SiteRole(RoleDef("Ops", "", frozenset({"read/space"})), "r-1")
    listed = {"Ops": LiveRole("r-1", "Ops", "CUSTOM", "Runs things", new.permissions)}
    stale = {"Ops": LiveRole("r-1", "Ops", "CUSTOM", "", frozenset({"read/space"}))}
    assert role_shows(listed, RoleChange(new))
    assert role_shows(listed, RoleChange(new, old))
    assert not role_shows(stale, RoleChange(new, old))
    assert not role_shows({}, RoleChange(new))
    assert role_shows({}, RoleChange(existing=old))
    assert not role_shows(stale, RoleChange(existing=old))


def test_space_info_is_not_part_of_the_replay() -> None:
    space = LiveSpace(SpaceInfo("ENG", "1", "Engineering", "global"), {A: "Viewer"})
    assert replay(space, ()) == SpaceAccess({A: "Viewer"}, {})
