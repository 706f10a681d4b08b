"""Safety checks: each failure is one finding whose whole message names the override."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.live_state import LiveSpace
from reconciler.model import Authority, EffectiveSpace, Principal, RoleMode
from reconciler.plan.changes import AssignmentChange, ChangeKind, GrantChange
from reconciler.plan.diff import plan_from_effective
from reconciler.plan.plan import SafetyCheck
from reconciler.plan.safety import check_plan
from tests.plan.factory import describe, desired, live, live_space, p, space

REFUSE = "apply refuses this plan without --allow-unsafe"
ACTOR_LOST = (
    "actor_admin: space ENG: the actor user:svc would not hold Admin after this plan, so the tool could "
    f"no longer manage the space; assign it Admin in the policy ({REFUSE})"
)


def _findings(want: EffectiveSpace, have: LiveSpace, mode: RoleMode = RoleMode.ROLES) -> list[str]:
    state, site = desired(), live(have, mode=mode)
    plan = plan_from_effective(state, site, {want.key: want})
    return [f"{f.check.value}: {f.message}" for f in check_plan(plan, state, site)]


def _many(n: int) -> dict[str, str]:
    return {f"group:g{i:02d}": "Viewer" for i in range(n)}


CASES = {
    "removes 30% of 20 assignments": (
        space(assign={"user:svc": "Admin", **_many(13)}),
        live_space(assign={"user:svc": "Admin", **_many(19)}),
        [(f"removal_fraction: the plan removes 6 of 20 live assignments and grants in scope (30%), more than "
         f"safety.max_removal_fraction 25% ({REFUSE})")],
    ),
    "removes 25% exactly is allowed": (
        space(assign={"user:svc": "Admin", **_many(14)}),
        live_space(assign={"user:svc": "Admin", **_many(19)}),
        [],
    ),
    "removes everything below the floor of 10": (
        space(assign={"user:svc": "Admin"}),
        live_space(assign={"user:svc": "Admin", **_many(8)}),
        [],
    ),
    "exact space left without admins": (
        space(assign={"user:svc": "Viewer", "group:eng": "Collaborator"}),
        live_space(assign={"user:svc": "Viewer", "group:boss": "Admin"}),
        [(f"min_admins: space ENG: 0 admin(s) besides the actor after this plan (down from 1), fewer than "
          f"safety.min_admins_per_space 1 ({REFUSE})"),
         ACTOR_LOST],
    ),
    "the actor does not count toward the minimum of admins": (
        space(assign={"user:svc": "Admin", "group:eng": "Viewer"}),
        live_space(assign={"user:svc": "Admin", "group:eng-leads": "Admin", "user:heidi": "Admin"}),
        [(f"min_admins: space ENG: 0 admin(s) besides the actor after this plan (down from 2), fewer than "
          f"safety.min_admins_per_space 1 ({REFUSE})")],
    ),
    "additive space is held to the minimum of admins too": (
        space(authority=Authority.ADDITIVE, assign={"user:svc": "Admin", "group:eng-leads": None}),
        live_space(assign={"user:svc": "Admin", "group:eng-leads": "Admin"}),
        [(f"min_admins: space ENG: 0 admin(s) besides the actor after this plan (down from 1), fewer than "
          f"safety.min_admins_per_space 1 ({REFUSE})")],
    ),
    "a space that already had too few admins does not block a plan that keeps them": (
        space(assign={"user:svc": "Admin", "group:eng": "Viewer"}),
        live_space(assign={"user:svc": "Admin", "group:old": "Viewer"}),
        [],
    ),
    "additive space that forgot the actor": (
        space(authority=Authority.ADDITIVE, assign={"group:eng": "Viewer"}),
        live_space(assign={"group:eng": "Viewer", "group:boss": "Admin"}),
        [ACTOR_LOST],
    ),
    "legacy admin counts through administer/space": (
        space(grants={"user:svc": ("read/space", "administer/space")}),
        live_space(grants={"user:svc": ("read/space", "administer/space")}),
        [],
    ),
}


@pytest.mark.parametrize(("want", "have", "expected"), CASES.values(), ids=CASES.keys())
def test_safety(want: EffectiveSpace, have: LiveSpace, expected: list[str]) -> None:
    mode = RoleMode.PRE_ROLES if want.grants else RoleMode.ROLES
    assert _findings(want, have, mode) == expected


def test_a_plan_that_removes_a_protected_principal_is_unsafe() -> None:
    state = desired()
    site = live(live_space(assign={"user:svc": "Admin", "group:confluence-administrators": "Admin"}))
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin"})})
    assert plan.changes == ()  # the diff withholds it ...
    forced = replace(plan, changes=(
        AssignmentChange("ENG", p("group:confluence-administrators"), None, "Admin"),
        AssignmentChange("ENG", Principal.parse_ref("user:svc"), "Viewer", "Admin"),
    ))
    findings = check_plan(forced, state, site)  # ... and a plan that carries it anyway is refused
    assert [(f.check, f.message) for f in findings if f.check is SafetyCheck.PROTECTED] == [
        (SafetyCheck.PROTECTED, (f"space ENG: the plan would remove protected principal "
                                 f"group:confluence-administrators (Admin) ({REFUSE})")),
        (SafetyCheck.PROTECTED, (f"space ENG: the plan would downgrade the actor user:svc from Admin to "
                                 f"Viewer ({REFUSE})")),
    ]


def test_revoking_read_space_drops_administer_space_for_the_admin_count() -> None:
    state = desired()
    have = live_space(grants={"user:svc": ("read/space", "administer/space"),
                              "group:a": ("read/space", "administer/space")})
    site = live(have, mode=RoleMode.PRE_ROLES)
    want = space(grants={"user:svc": ("read/space", "administer/space"), "group:a": ("read/space",)})
    plan = plan_from_effective(state, site, {"ENG": want})
    assert [describe(c) for c in plan.changes] == [
        "revoke ENG group:a administer/space (not among the policy's permissions for this principal)"
    ]
    revoke = GrantChange(ChangeKind.REVOKE, "ENG", p("group:a"), permission="read/space")
    forced = replace(plan, changes=(revoke,))
    assert [f"{f.check.value}: {f.message}" for f in check_plan(forced, state, site)] == [
        (f"min_admins: space ENG: 0 admin(s) besides the actor after this plan (down from 1), fewer than "
         f"safety.min_admins_per_space 1 ({REFUSE})"),
    ]


def test_a_small_scope_losing_most_access_gets_a_note_but_no_finding() -> None:
    state = desired()
    site = live(live_space(assign={"user:svc": "Admin", **_many(4)}))
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin", **_many(1)})})
    assert check_plan(plan, state, site) == ()
    assert plan.notes[-1] == (
        "the plan removes 3 of 5 live assignments and grants in scope (60%), more than "
        "safety.max_removal_fraction 25%; not enforced in a scope of fewer than 10, so this does not block it"
    )


def test_a_small_scope_within_the_fraction_gets_no_removal_note() -> None:
    state = desired()
    site = live(live_space(assign={"user:svc": "Admin", **_many(4)}))
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin", **_many(4)})})
    assert not any("max_removal_fraction" in note for note in plan.notes)
