"""Safety: the plan never removes access nobody asked to remove (unknown groups, transition sites, roles)."""

from __future__ import annotations

from dataclasses import replace

from reconciler.live_state import LiveRole, LiveState
from reconciler.model import Authority, DesiredState, RoleDef, RoleMode, Source
from reconciler.plan.changes import AssignmentChange
from reconciler.plan.diff import plan_from_effective
from reconciler.plan.plan import Plan
from reconciler.plan.safety import check_plan
from tests.plan.factory import describe, desired, live, live_space, p, space

REFUSE = "apply refuses this plan without --allow-unsafe"
TRANSITION = RoleMode.ROLES_TRANSITION
ROLES_SRC = Source("policies/roles.yaml", 3)


def _messages(plan: Plan, state: DesiredState, site: LiveState) -> list[str]:
    return [f"{f.check.value}: {f.message}" for f in check_plan(plan, state, site)]


def test_a_misspelt_group_that_would_lose_the_real_groups_access_is_unsafe() -> None:
    state = desired()
    site = live(live_space(assign={"user:svc": "Admin", "group:engineering": "Collaborator"}))
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin",
                                                                  "group:engineerng": "Collaborator"})})
    assert [describe(c) for c in plan.changes] == [
        "assign ENG group:engineerng ->Collaborator",
        "unassign ENG group:engineering Collaborator-> (not in policy; space is exact)",
    ]
    assert _messages(plan, state, site) == [
        ("unknown_principal: space ENG: group 'engineerng' does not exist on the site "
         "(policies/spaces/ENG.yaml:7); the plan would remove access without adding it; fix the name in the "
         f"policy ({REFUSE})"),
    ]


def test_a_group_missing_from_the_site_is_unsafe_even_when_nothing_is_removed() -> None:
    state = desired()
    site = live(live_space(grants={"user:svc": ("read/space", "administer/space")}), mode=RoleMode.PRE_ROLES)
    want = space(authority=Authority.ADDITIVE, grants={"group:contractorz": ("read/space", "create/page")})
    plan = plan_from_effective(state, site, {"ENG": want})
    assert _messages(plan, state, site) == [
        ("unknown_principal: space ENG: group 'contractorz' does not exist on the site "
         f"(policies/spaces/ENG.yaml:7); adding it cannot succeed; fix the name in the policy ({REFUSE})"),
    ]


def test_transition_role_replacing_permissions_counts_the_lost_ones_as_removals() -> None:
    state = desired(min_admins=0)
    grants = {f"group:g{i}": ("read/space", "create/page", "administer/space") for i in range(4)}
    site = live(live_space(assign={"user:svc": "Admin"}, grants=grants), mode=TRANSITION)
    want = space(assign={"user:svc": "Admin", **dict.fromkeys(grants, "Viewer")})
    plan = plan_from_effective(state, site, {"ENG": want})
    assert plan.live_assignments == 13
    assert describe(plan.changes[0]) == (
        "assign ENG group:g0 custom access->Viewer (replaces individual permissions administer/space, "
        "create/page, read/space; loses administer/space, create/page)"
    )
    assert _messages(plan, state, site) == [
        ("removal_fraction: the plan removes 8 of 13 live assignments and grants in scope (62%), more than "
         f"safety.max_removal_fraction 25% ({REFUSE})"),
    ]


def test_transition_role_replacing_the_only_admins_permissions_fails_minimum_admins() -> None:
    state = desired()
    have = live_space(assign={"user:svc": "Admin"}, grants={"group:ops": ("read/space", "administer/space")})
    site = live(have, mode=TRANSITION)
    want = space(assign={"user:svc": "Admin", "group:ops": "Viewer"})
    plan = plan_from_effective(state, site, {"ENG": want})
    assert _messages(plan, state, site) == [
        ("min_admins: space ENG: 0 admin(s) besides the actor after this plan (down from 1), fewer than "
         f"safety.min_admins_per_space 1 ({REFUSE})"),
    ]


def test_a_forced_role_replacing_a_protected_principals_permissions_is_unsafe() -> None:
    state = desired(min_admins=0)
    admins = p("group:confluence-administrators")
    have = live_space(assign={"user:svc": "Admin"}, grants={admins.ref: ("read/space", "administer/space")})
    site = live(have, mode=TRANSITION)
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin"})})
    assert plan.changes == ()
    forced = replace(plan, changes=(AssignmentChange("ENG", admins, "Viewer"),))
    assert _messages(forced, state, site) == [
        ("protected: space ENG: the plan would replace the individual permissions of protected principal "
         f"group:confluence-administrators with Viewer, losing administer/space ({REFUSE})"),
    ]


def test_spaces_already_below_the_minimum_of_admins_get_a_note_not_a_finding() -> None:
    state = desired(min_admins=2)
    site = live(live_space(assign={"user:svc": "Admin", "group:boss": "Admin"}))
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin", "group:boss": "Admin",
                                                                  "group:eng": "Viewer"})})
    assert check_plan(plan, state, site) == ()
    assert plan.notes == (
        ("space ENG: 1 admin(s) besides the actor, fewer than safety.min_admins_per_space 2; the plan does "
         "not reduce them, so this does not block it"),
    )


OPS_PERMISSIONS = frozenset({"read/space", "create/page", "administer/space"})
OPS_LIVE = LiveRole("r-ops", "Ops", "CUSTOM", "", OPS_PERMISSIONS)


def test_narrowing_a_custom_role_a_protected_principal_holds_is_unsafe() -> None:
    state = desired(roles={"Ops": RoleDef("Ops", "", frozenset({"read/space"}), ROLES_SRC)})
    assign = {"user:svc": "Admin", "group:confluence-administrators": "Ops"}
    site = live(live_space(assign=assign), live_space("OPS", assign=assign), roles={"Ops": OPS_LIVE})
    plan = plan_from_effective(state, site, {"ENG": space(assign=assign), "OPS": space("OPS", assign=assign)})
    assert [describe(c) for c in plan.changes] == ["update_role Ops"]
    assert _messages(plan, state, site) == [
        # Ops includes administer/space, so its holders are admins (one definition, permissions.space_admins)
        *(f"min_admins: space {key}: 0 admin(s) besides the actor after this plan (down from 1), fewer than "
          f"safety.min_admins_per_space 1 ({REFUSE})" for key in ("ENG", "OPS")),
        ("protected: role Ops: the update removes administer/space, create/page, which protected principal "
         f"group:confluence-administrators holds through it in ENG, OPS ({REFUSE})"),
    ]


def test_widening_a_custom_role_a_protected_principal_holds_is_safe() -> None:
    wider = RoleDef("Ops", "", OPS_LIVE.permissions | {"export/space"}, ROLES_SRC)
    assign = {"user:svc": "Admin", "group:confluence-administrators": "Ops"}
    state = desired(roles={"Ops": wider})
    site = live(live_space(assign=assign), roles={"Ops": OPS_LIVE})
    plan = plan_from_effective(state, site, {"ENG": space(assign=assign)})
    assert [describe(c) for c in plan.changes] == ["update_role Ops"]
    assert check_plan(plan, state, site) == ()


def test_deleting_a_custom_role_the_actor_still_holds_is_unsafe() -> None:
    state = desired(deleted_roles={"Ops": ROLES_SRC})
    site = live(live_space(assign={"user:svc": "Ops", "group:boss": "Admin"}), roles={"Ops": OPS_LIVE})
    plan = plan_from_effective(state, site, {"ENG": space(authority=Authority.ADDITIVE)})
    assert [describe(c) for c in plan.changes] == ["delete_role Ops (set to none in policy)"]
    assert _messages(plan, state, site) == [
        ("protected: role Ops: deleting it removes the access the actor user:svc holds through it in ENG "
         f"({REFUSE})"),
        ("actor_admin: space ENG: the actor user:svc would not hold Admin after this plan, so the tool could "
         f"no longer manage the space; assign it Admin in the policy ({REFUSE})"),
    ]


def test_deleting_a_custom_role_the_plan_moves_everyone_off_is_safe() -> None:
    state = desired(deleted_roles={"Ops": ROLES_SRC})
    site = live(live_space(assign={"user:svc": "Admin", "group:confluence-administrators": "Ops"}),
                roles={"Ops": OPS_LIVE})
    want = space(assign={"user:svc": "Admin", "group:confluence-administrators": "Admin"})
    plan = plan_from_effective(state, site, {"ENG": want})
    assert [describe(c) for c in plan.changes] == [
        "reassign ENG group:confluence-administrators Ops->Admin",
        "delete_role Ops (set to none in policy)",
    ]
    assert check_plan(plan, state, site) == ()


def test_a_forced_reassign_from_a_role_the_site_cannot_name_is_a_downgrade() -> None:
    state = desired()
    site = live(live_space(assign={"user:svc": "Admin", "group:confluence-administrators": "1b2c-unnamed"}))
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin"})})
    forced = replace(plan, changes=(
        AssignmentChange("ENG", p("group:confluence-administrators"), "Viewer", "1b2c-unnamed"),
    ))
    assert _messages(forced, state, site) == [
        ("protected: space ENG: the plan would downgrade protected principal group:confluence-administrators "
         f"from 1b2c-unnamed to Viewer ({REFUSE})"),
    ]
