"""Issue 12, items 3 and 4, in the pure core: apps' users left alone and counted, the names a policy uses
checked against what the site says (accounts, protected principals, catalogue ids, roles-only grants)."""
# ruff: noqa: E501, ISC004 - expected messages are compared whole

from __future__ import annotations

from dataclasses import replace

from reconciler.live_state import Accounts, Caller, LiveRole
from reconciler.model import Person, RoleDef, RoleMode, SafetySettings, Source
from reconciler.plan.diff import plan_from_effective
from reconciler.plan.plan import SafetyCheck
from reconciler.plan.safety import check_plan
from tests.plan.factory import describe, desired, live, live_space, p, space

APP = "user:557058:app-1"
ADMIN = {"user:svc": "Admin"}


def _with_accounts(state, apps=(), missing=()):  # type: ignore[no-untyped-def]
    return replace(state, accounts=Accounts(frozenset(a.removeprefix("user:") for a in apps),
                                            frozenset(missing)))


def test_an_app_account_is_left_alone_by_an_exact_space_and_counted() -> None:
    site = _with_accounts(live(live_space(assign=ADMIN, grants={APP: ("read/space", "administer/space")}),
                               mode=RoleMode.ROLES_TRANSITION), apps=[APP])
    plan = plan_from_effective(desired(), site, {"ENG": space(assign=ADMIN)})
    assert [describe(c) for c in plan.changes] == []
    assert plan.notes[0] == ("1 app account(s) left alone (2 permission(s) and assignment(s) in 1 space(s)): "
                              "installed apps' users are never changed unless a policy names them")
    assert plan.live_assignments == 1  # the app's rows are not in the removal fraction's denominator
    assert plan.notes[1].startswith("space ENG: 0 admin(s) besides the actor")  # an app is no admin


def test_an_app_account_the_policy_names_is_managed_like_anyone() -> None:
    site = _with_accounts(live(live_space(assign=ADMIN, grants={APP: ("read/space", "administer/space")}),
                               mode=RoleMode.ROLES_TRANSITION), apps=[APP])
    plan = plan_from_effective(desired(), site, {"ENG": space(assign=ADMIN, grants={APP: ("read/space",)})})
    assert [describe(c) for c in plan.changes] == [
        f"revoke ENG {APP} administer/space (not among the policy's permissions for this principal)"]
    assert not any("app account" in note for note in plan.notes)


def test_without_an_account_lookup_nobody_is_taken_for_an_app() -> None:
    site = live(live_space(assign=ADMIN, grants={APP: ("read/space",)}), mode=RoleMode.ROLES_TRANSITION)
    plan = plan_from_effective(desired(), site, {"ENG": space(assign=ADMIN)})
    assert [describe(c) for c in plan.changes] == [f"revoke ENG {APP} read/space (not in policy; space is exact)"]


def _findings(state, site, spaces):  # type: ignore[no-untyped-def]
    plan = plan_from_effective(state, site, spaces)
    return [(f.check, f.message) for f in check_plan(plan, state, site)]


def test_an_account_the_site_does_not_have_is_a_finding_at_its_line() -> None:
    ann = Person("ann", "5b10ac8d82e05b22cc7d4eff", False, Source("policies/people.yaml", 4, 8))
    state = replace(desired(), people={"ann": ann})
    site = _with_accounts(live(live_space(assign=ADMIN)), missing=["5b10ac8d82e05b22cc7d4eff"])
    spaces = {"ENG": space(assign={**ADMIN, "user:5b10ac8d82e05b22cc7d4eff": "Viewer"})}
    assert _findings(state, site, spaces) == [(
        SafetyCheck.UNKNOWN_ACCOUNT,
        "policies/people.yaml:4: person 'ann': account '5b10ac8d82e05b22cc7d4eff' is not on the site "
        "(GET /user/bulk does not know it; the change would fail at apply with 'No user found'); fix the "
        "account id (apply refuses this plan without --allow-unsafe)",
    )]


def test_a_protected_group_the_site_does_not_have_is_a_finding_with_did_you_mean() -> None:
    at = Source("policies/site.yaml", 14, 7)
    typo = p("group:confluence-adminstrators")
    state = replace(desired(), safety=SafetySettings(protected=(typo,), protected_at={typo: at}))
    site = replace(live(live_space(assign=ADMIN)), site_groups=("confluence-administrators", "eng"))
    assert _findings(state, site, {"ENG": space(assign=ADMIN)}) == [(
        SafetyCheck.PROTECTED_MISSING,
        "policies/site.yaml:14: safety.protected: group 'confluence-adminstrators' is not on the site (did "
        "you mean 'confluence-administrators'?), so nothing is protected by this entry; fix the name (apply "
        "refuses this plan without --allow-unsafe)",
    )]


def test_a_role_permission_outside_the_sites_catalogue_is_a_finding_with_did_you_mean() -> None:
    role = RoleDef("Curator", "", frozenset({"read/space", "manage_template/space"}),
                   Source("policies/roles.yaml", 3))
    site = replace(live(live_space(assign=ADMIN)),
                   permissions=frozenset({"read/space", "manage_templates/space"}))
    assert _findings(desired(roles={"Curator": role}), site, {"ENG": space(assign=ADMIN)}) == [(
        SafetyCheck.UNKNOWN_PERMISSION,
        "policies/roles.yaml:3: role 'Curator': permission 'manage_template/space' is not in the site's "
        "catalogue (GET /space-permissions) (did you mean 'manage_templates/space'?); creating or updating "
        "the role would fail (apply refuses this plan without --allow-unsafe)",
    )]


def test_roles_only_a_non_product_admin_may_not_give_what_it_does_not_hold() -> None:
    caller = Caller("svc", product_admin=False, groups=frozenset({"eng"}))
    roles = {"Publisher": LiveRole("r-pub", "Publisher", "CUSTOM", "",
                                   frozenset({"read/space", "create/page", "export/space"}))}
    assign = {"user:svc": "Collaborator", "group:eng": "Viewer"}
    site = replace(live(live_space(assign=assign), roles=roles), caller=caller)
    spaces = {"ENG": space(assign={**assign, "user:ann": "Publisher"})}
    assert [(check, message) for check, message in _findings(desired(), site, spaces)
            if check is SafetyCheck.GRANT_NOT_HELD] == [(
        SafetyCheck.GRANT_NOT_HELD,
        "policies/spaces/ENG.yaml:7: space ENG: giving user:ann role 'Publisher' needs export/space, which the "
        "account the tool runs as does not hold there; on a roles-only site only a product admin may grant "
        "what it does not hold (apply refuses this plan without --allow-unsafe)",
    )]
    admin = replace(site, caller=replace(caller, product_admin=True))
    assert not [c for c, _ in _findings(desired(), admin, spaces) if c is SafetyCheck.GRANT_NOT_HELD]
    transition = replace(site, mode=RoleMode.ROLES_TRANSITION)
    assert not [c for c, _ in _findings(desired(), transition, spaces) if c is SafetyCheck.GRANT_NOT_HELD]
