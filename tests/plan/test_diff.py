"""The pure diff: desired (effective spaces) against live, one table row per behaviour."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import UsageError
from reconciler.live_state import LiveRole, LiveSpace, LiveState
from reconciler.model import (
    CONTAINER,
    Authority,
    DataSecurityPolicy,
    DesiredState,
    DsRule,
    Effect,
    EffectiveSpace,
    OrgPolicies,
    RoleDef,
    RoleMode,
    Source,
)
from reconciler.plan.changes import AppPolicyChange, ChangeKind
from reconciler.plan.diff import plan_from_effective
from tests.plan.factory import SRC, describe, desired, live, live_space, p, space

EXACT, ADDITIVE = Authority.EXACT, Authority.ADDITIVE
ROLES, TRANSITION, PRE = RoleMode.ROLES, RoleMode.ROLES_TRANSITION, RoleMode.PRE_ROLES


@dataclass(frozen=True)
class Case:
    want: EffectiveSpace
    have: LiveSpace
    changes: list[str]
    held: tuple[str, ...] = ()
    mode: RoleMode = ROLES


ADMINS_OK = {"user:svc": "Admin"}
UNKNOWN = "unknown principal: the site could not name it; remove it by hand or name it in the policy"

CASES = {
    "exact space removes unlisted group": Case(
        space(assign={"user:svc": "Admin"}),
        live_space(assign={**ADMINS_OK, "group:old": "Viewer"}),
        ["unassign ENG group:old Viewer-> (not in policy; space is exact)"],
    ),
    "additive keeps unlisted": Case(
        space(authority=ADDITIVE, assign={"group:eng": "Collaborator"}),
        live_space(assign={**ADMINS_OK, "group:old": "Viewer", "group:eng": "Collaborator"}),
        [],
    ),
    "none removes under additive": Case(
        space(authority=ADDITIVE, assign={"class:anonymous-users": None}),
        live_space(assign={**ADMINS_OK, "class:anonymous-users": "Viewer"}),
        ["unassign ENG class:anonymous-users Viewer-> (set to none in policy)"],
    ),
    "none of an absent principal is no change": Case(
        space(authority=ADDITIVE, assign={"class:anonymous-users": None}),
        live_space(assign=ADMINS_OK),
        [],
    ),
    "new principal is assigned": Case(
        space(assign={"user:svc": "Admin", "group:eng": "Collaborator"}),
        live_space(assign=ADMINS_OK),
        ["assign ENG group:eng ->Collaborator"],
    ),
    "reassign is one change": Case(
        space(assign={"user:svc": "Admin", "group:eng": "Manager"}),
        live_space(assign={**ADMINS_OK, "group:eng": "Viewer"}),
        ["reassign ENG group:eng Viewer->Manager"],
    ),
    "actor never removed": Case(
        space(assign={"group:eng": "Admin"}),
        live_space(assign={**ADMINS_OK, "group:eng": "Admin"}),
        [],
        held=("unassign ENG user:svc Admin-> (kept: the actor (site.actor) is never removed or downgraded)",),
    ),
    "actor never downgraded": Case(
        space(assign={"user:svc": "Viewer"}),
        live_space(assign=ADMINS_OK),
        [],
        held=(
            (
                "reassign ENG user:svc Admin->Viewer (kept: the actor (site.actor) is never removed or "
                "downgraded)"
            ),
        ),
    ),
    "protected group kept under exact": Case(
        space(assign={"user:svc": "Admin"}),
        live_space(assign={**ADMINS_OK, "group:confluence-administrators": "Admin"}),
        [],
        held=(
            (
                "unassign ENG group:confluence-administrators Admin-> (kept: protected principal "
                "(safety.protected) is never removed or downgraded)"
            ),
        ),
    ),
    "protected group may be upgraded": Case(
        space(assign={"user:svc": "Admin", "group:confluence-administrators": "Admin"}),
        live_space(assign={**ADMINS_OK, "group:confluence-administrators": "Viewer"}),
        ["reassign ENG group:confluence-administrators Viewer->Admin"],
    ),
    "read/space granted first revoked last": Case(
        space(grants={"group:c": ("read/space", "create/page"), "group:gone": ()}),
        live_space(grants={"group:gone": ("read/space", "create/page")}),
        [
            "grant ENG group:c read/space",
            "grant ENG group:c create/page",
            "revoke ENG group:gone create/page (set to none in policy)",
            "revoke ENG group:gone read/space (set to none in policy)",
        ],
        mode=PRE,
    ),
    "listed principal loses unlisted permission under additive": Case(
        space(authority=ADDITIVE, grants={"group:c": ("read/space",)}),
        live_space(grants={"group:c": ("read/space", "create/page"), "group:x": ("read/space",)}),
        ["revoke ENG group:c create/page (not among the policy's permissions for this principal)"],
        mode=PRE,
    ),
    "exact legacy space revokes unlisted principal": Case(
        space(grants={"user:svc": ("read/space", "administer/space")}),
        live_space(grants={"user:svc": ("read/space", "administer/space"), "group:x": ("read/space",)}),
        ["revoke ENG group:x read/space (not in policy; space is exact)"],
        mode=PRE,
    ),
    "transition site diffs roles and grants; a role holder keeps its grants": Case(
        space(assign={"user:svc": "Admin", "group:eng": "Viewer"}, grants={"group:c": ("read/space",)}),
        live_space(assign=ADMINS_OK, grants={"group:eng": ("read/space",), "user:svc": ("read/space",)}),
        ["grant ENG group:c read/space",
         ("assign ENG group:eng custom access->Viewer (replaces individual permissions read/space; the role "
          "includes them all)")],
        mode=TRANSITION,
    ),
    "transition site: a role replacing individual permissions says what is lost": Case(
        space(assign={"user:svc": "Admin", "group:eng": "Viewer"}),
        live_space(assign=ADMINS_OK, grants={"group:eng": ("read/space", "create/page")}),
        [("assign ENG group:eng custom access->Viewer (replaces individual permissions create/page, "
          "read/space; loses create/page)")],
        mode=TRANSITION,
    ),
    "transition site: a role replacing a protected principal's permissions it lacks is kept": Case(
        space(assign={"user:svc": "Admin", "group:confluence-administrators": "Viewer"}),
        live_space(assign=ADMINS_OK, grants={"group:confluence-administrators": ("read/space",
                                                                                 "administer/space")}),
        [],
        held=(("assign ENG group:confluence-administrators custom access->Viewer (kept: protected principal "
               "(safety.protected) is never removed or downgraded; replaces individual permissions "
               "administer/space, read/space; loses administer/space)"),),
        mode=TRANSITION,
    ),
    "transition site: the actor may get a role that covers its permissions": Case(
        space(assign={"user:svc": "Admin"}),
        live_space(grants={"user:svc": ("read/space", "create/page")}),
        [("assign ENG user:svc custom access->Admin (replaces individual permissions create/page, "
          "read/space; the role includes them all)")],
        mode=TRANSITION,
    ),
    "a protected principal on a role the site cannot name is never reassigned": Case(
        space(assign={"user:svc": "Admin", "group:confluence-administrators": "Viewer"}),
        live_space(assign={**ADMINS_OK, "group:confluence-administrators": "1b2c-unnamed-role"}),
        [],
        held=(("reassign ENG group:confluence-administrators 1b2c-unnamed-role->Viewer (kept: protected "
               "principal (safety.protected) is never removed or downgraded)"),),
    ),
    "an unknown principal is never removed, under exact": Case(
        space(assign={"user:svc": "Admin"}),
        live_space(assign={**ADMINS_OK, "group:9f3c-dead": "Viewer"}, unknown=("group:9f3c-dead",)),
        [],
        held=(f"unassign ENG group:9f3c-dead Viewer-> ({UNKNOWN})",),
    ),
    "an unknown principal's individual permissions are never revoked": Case(
        space(grants={"user:svc": ("read/space", "administer/space")}),
        live_space(
            grants={"user:svc": ("read/space", "administer/space"), "group:9f3c-dead": ("read/space",)},
            unknown=("group:9f3c-dead",),
        ),
        [],
        held=(f"revoke ENG group:9f3c-dead read/space ({UNKNOWN})",),
        mode=PRE,
    ),
    "none in assign revokes individual permissions too": Case(
        space(authority=ADDITIVE, assign={"user:svc": "Admin", "group:x": None}),
        live_space(assign=ADMINS_OK, grants={"group:x": ("read/space", "create/page")}),
        ["revoke ENG group:x create/page (set to none in policy)",
         "revoke ENG group:x read/space (set to none in policy)"],
        mode=TRANSITION,
    ),
    "legacy site ignores role assignments": Case(
        space(assign={"group:eng": "Viewer"}),
        live_space(),
        [],
        mode=PRE,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_diff(case: Case) -> None:
    plan = plan_from_effective(desired(), live(case.have, mode=case.mode), {"ENG": case.want})
    assert [describe(c) for c in plan.changes] == case.changes
    assert tuple(describe(c) for c in plan.held) == case.held


def _plan_roles(state: DesiredState, site: LiveState, scope: tuple[str, ...] = ()) -> list[str]:
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin"})}, scope=scope)
    return [describe(c) for c in plan.changes]


REVIEWER = RoleDef(
    "Reviewer", "Reads and comments", frozenset({"read/space"}), Source("policies/roles.yaml", 3)
)


def test_legacy_site_notes_role_assignments_it_cannot_plan() -> None:
    site = live(live_space(grants={"user:svc": ("read/space", "administer/space")}), mode=PRE)
    plan = plan_from_effective(desired(min_admins=0), site, {"ENG": space(assign={"group:eng": "Viewer"})})
    assert plan.notes == (
        ("role assignments not planned in ENG: the site is on individual permissions (PRE_ROLES); "
        "declare grants: instead"),
    )


def test_custom_role_missing_is_created_and_changed_one_updated() -> None:
    other = RoleDef("Other", "x", frozenset({"read/space"}), Source("policies/roles.yaml", 7))
    site = live(
        live_space(assign={"user:svc": "Admin"}),
        roles={"Other": LiveRole("r-9", "Other", "CUSTOM", "old text", frozenset({"read/space"}))},
    )
    assert _plan_roles(desired(roles={"Reviewer": REVIEWER, "Other": other}), site) == [
        "create_role Reviewer",
        "update_role Other",
    ]


def test_custom_role_declared_none_is_deleted_after_everything_else() -> None:
    site = live(
        live_space(assign={"user:svc": "Admin", "group:x": "Viewer"}),
        roles={"Old": LiveRole("r-9", "Old", "CUSTOM", "", frozenset({"read/space"}))},
    )
    state = desired(
        deleted_roles={"Old": Source("policies/roles.yaml", 12), "Gone": Source("policies/roles.yaml", 13)}
    )
    assert _plan_roles(state, site) == [
        "unassign ENG group:x Viewer-> (not in policy; space is exact)",
        "delete_role Old (set to none in policy)",
    ]


def test_undeclared_custom_role_is_left_alone() -> None:
    site = live(
        live_space(assign={"user:svc": "Admin"}),
        roles={"Old": LiveRole("r-9", "Old", "CUSTOM", "", frozenset({"read/space"}))},
    )
    assert _plan_roles(desired(), site) == []


def test_scoped_plan_creates_only_roles_its_spaces_assign() -> None:
    site = live(live_space(assign={"user:svc": "Admin"}), live_space("OPS", assign={"user:svc": "Admin"}))
    effective = {
        "ENG": space(assign={"user:svc": "Admin"}),
        "OPS": space("OPS", assign={"user:svc": "Admin", "group:ops": "Reviewer"}),
    }
    plan = plan_from_effective(desired(roles={"Reviewer": REVIEWER}), site, effective, scope=("OPS",))
    assert [describe(c) for c in plan.changes] == ["create_role Reviewer", "assign OPS group:ops ->Reviewer"]
    assert [s.key for s in plan.spaces] == ["OPS"]
    assert plan.scope == ("OPS",)


def test_unknown_scope_key_is_a_usage_error() -> None:
    site = live(live_space(assign={"user:svc": "Admin"}))
    with pytest.raises(UsageError) as exc:
        plan_from_effective(desired(), site, {"ENG": space()}, scope=("NOPE",))
    assert str(exc.value) == "--space NOPE: not a space the policy manages"


def test_data_security_changes_come_from_its_differ_only_when_data_security_is_read() -> None:
    policy = DataSecurityPolicy(DsRule.EXPORT, Effect.BLOCK, CONTAINER, "", ("ENG",))
    made = [AppPolicyChange(new=policy)]
    effective = {"ENG": space(assign={"user:svc": "Admin"})}
    base = live(live_space(assign={"user:svc": "Admin"}))
    with_apps = LiveState(base.mode, base.roles, base.permissions, base.spaces, {},
                          data_security=OrgPolicies(()))
    assert plan_from_effective(desired(), base, effective, app_differ=lambda d, s: made).changes == ()
    assert plan_from_effective(desired(), with_apps, effective, app_differ=lambda d, s: made).changes == (
        made[0],
    )


def test_plan_records_spaces_counts_and_sources() -> None:
    have = live_space(assign={"user:svc": "Admin", "group:a": "Viewer"}, grants={"group:b": ("read/space",)})
    want = space(assign={"user:svc": "Admin", "group:eng": "Viewer"})
    plan = plan_from_effective(desired(), live(have, mode=TRANSITION), {"ENG": want})
    assert plan.live_assignments == 3
    assert plan.spaces[0].authority is EXACT
    assert plan.spaces[0].id == "id-ENG"
    assign = next(c for c in plan.changes if c.kind is ChangeKind.ASSIGN)
    assert assign.source == SRC
    assert plan.fingerprint.startswith("sha256:")


ROLE_NAMES = ["Admin", "Manager", "Collaborator", "Viewer"]
REFS = ["user:svc", "group:confluence-administrators", "group:a", "group:b", "user:c",
        "class:anonymous-users"]


@settings(max_examples=200, deadline=None)
@given(
    live_roles=st.dictionaries(st.sampled_from(REFS), st.sampled_from(ROLE_NAMES)),
    want=st.dictionaries(st.sampled_from(REFS), st.sampled_from([*ROLE_NAMES, None])),
    authority=st.sampled_from(Authority),
)
def test_applying_the_plan_converges_except_for_kept_changes(
    live_roles: dict[str, str], want: dict[str, str | None], authority: Authority
) -> None:
    plan = plan_from_effective(
        desired(), live(live_space(assign=live_roles)), {"ENG": space(authority=authority, assign=want)}
    )
    after = {p(ref): role for ref, role in live_roles.items()}
    for change in plan.changes:
        assert change.principal is not None
        if change.role is None:
            del after[change.principal]
        else:
            after[change.principal] = change.role
    expected = {p(ref): role for ref, role in live_roles.items()}
    if authority is Authority.EXACT:
        expected = {who: role for who, role in expected.items() if who.ref in want}
    expected.update({p(ref): role for ref, role in want.items() if role is not None})
    for ref, role in want.items():
        if role is None:
            expected.pop(p(ref), None)
    for kept in plan.held:  # kept changes leave the live role in place
        assert kept.principal is not None
        expected[kept.principal] = live_roles[kept.principal.ref]
    assert after == expected
    assert all((c.principal and c.principal.ref not in ("user:svc", "group:confluence-administrators"))
               or c.kind is not ChangeKind.UNASSIGN for c in plan.changes)
    assert len({c.principal for c in plan.changes}) == len(plan.changes)  # one change per principal


def test_a_protected_principal_on_a_role_missing_from_the_sites_role_list_is_kept() -> None:
    ops = RoleDef("Ops", "", frozenset({"read/space"}), Source("policies/roles.yaml", 3))
    site = live(live_space(assign={"user:svc": "Admin", "group:confluence-administrators": "Ops"}))
    want = space(assign={"user:svc": "Admin", "group:confluence-administrators": "Viewer"})
    plan = plan_from_effective(desired(roles={"Ops": ops}), site, {"ENG": want})
    assert [describe(c) for c in plan.changes] == ["create_role Ops"]
    assert [describe(c) for c in plan.held] == [
        ("reassign ENG group:confluence-administrators Ops->Viewer (kept: protected principal "
         "(safety.protected) is never removed or downgraded)"),
    ]
