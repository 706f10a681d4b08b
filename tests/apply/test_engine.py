"""The apply engine against a fake site: order, isolation, unknown outcomes, verification, refusals."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reconciler.apply import ApplyResult, Status, apply_plan
from reconciler.apply.execute import CONFIRMED
from reconciler.errors import StalePlanError, UnsafePlanError
from reconciler.live_state import LiveState
from reconciler.model import Principal, PrincipalKind, RoleDef, RoleMode
from reconciler.plan.changes import (
    AppPolicyChange,
    AssignmentChange,
    Change,
    ChangeKind,
    GrantChange,
    RoleChange,
)
from reconciler.plan.safety import check_plan
from tests.apply.fakes import (
    ACTOR,
    FakeSite,
    Fault,
    desired_state,
    group,
    make_plan,
    server_error,
    transport_error,
    user,
)

REVIEWER = RoleDef("Reviewer", "Reads and comments", frozenset({"read/space", "create/comment"}))


def assign(space: str, who: Principal, role: str, old: str | None = None) -> Change:
    return AssignmentChange(space, who, role, old)


def unassign(space: str, who: Principal, old: str) -> Change:
    return AssignmentChange(space, who, None, old)


def grant(space: str, who: Principal, perm: str) -> Change:
    return GrantChange(ChangeKind.GRANT, space, who, perm)


def revoke(site: FakeSite, space: str, who: Principal, perm: str) -> Change:
    pid = site.spaces[space].grants[who][perm]
    return GrantChange(ChangeKind.REVOKE, space, who, perm, pid)


def run(site: FakeSite, changes: Sequence[Change], sleeps: list[float] | None = None,
        **kwargs: object) -> ApplyResult:
    plan = make_plan(site, changes)
    desired = desired_state(Reviewer=REVIEWER)
    return apply_plan(plan, desired, reader=site, writer=site,
                      sleep=(sleeps if sleeps is not None else []).append, **kwargs)  # type: ignore[arg-type]


def statuses(result: ApplyResult) -> list[tuple[str, str]]:
    return [(r.status.value, r.reason) for r in result.results]


def roles_site() -> FakeSite:
    site = FakeSite()
    site.add_space("ENG", engineering="Viewer", contractors="Viewer")
    site.add_space("HR", hr="Viewer")
    site.group_ids["eng-leads"] = "gid-eng-leads"
    return site


def test_roles_site_sets_every_assignment_of_a_space_in_one_write() -> None:
    site = roles_site()
    result = run(site, [
        assign("ENG", group("eng-leads"), "Admin"),
        assign("ENG", group("engineering"), "Collaborator", old="Viewer"),
        unassign("ENG", group("contractors"), "Viewer"),
        assign("HR", group("hr"), "Manager", old="Viewer"),
    ])
    assert result.ok
    assert site.writes == ["set_role_assignments ENG 3", "set_role_assignments HR 1"]
    assert dict(result.writes_by_space) == {"ENG": 1, "HR": 1}
    assert site.spaces["ENG"].assignments == {
        ACTOR: "Admin", group("eng-leads"): "Admin", group("engineering"): "Collaborator",
    }


def test_role_created_in_this_run_is_assigned_by_the_id_from_its_creation() -> None:
    site = roles_site()
    result = run(site, [
        RoleChange(REVIEWER),
        assign("HR", user("u-1"), "Reviewer"),
    ])
    assert result.ok
    assert site.writes == ["create_role Reviewer", "set_role_assignments HR 1"]
    assert site.spaces["HR"].assignments[user("u-1")] == "Reviewer"


def test_legacy_site_grants_read_space_first_and_revokes_it_last() -> None:
    site = FakeSite(RoleMode.PRE_ROLES)
    site.add_space("OPS")
    site.add_grants("OPS", group("old"), "read/space", "create/page")
    site.add_grants("OPS", group("contractors"))
    changes = [
        grant("OPS", group("contractors"), "create/page"),
        grant("OPS", group("contractors"), "read/space"),
        revoke(site, "OPS", group("old"), "read/space"),
        revoke(site, "OPS", group("old"), "create/page"),
    ]
    result = run(site, changes)
    assert result.ok, statuses(result)
    assert site.writes == [
        "add_permission OPS group:contractors read/space",
        "add_permission OPS group:contractors create/page",
        f"delete_permission OPS {changes[3].permission_id}",
        f"delete_permission OPS {changes[2].permission_id}",
    ]
    grants = {p.ref: sorted(held) for p, held in site.spaces["OPS"].grants.items()}
    assert grants == {
        ACTOR.ref: ["administer/space", "read/space"], "group:contractors": ["create/page", "read/space"],
    }


def test_stale_plan_is_refused_before_any_write() -> None:
    site = roles_site()
    plan = make_plan(site, [assign("HR", group("hr"), "Manager", old="Viewer")])
    site.spaces["HR"].assignments[user("someone")] = "Viewer"  # changed after planning
    with pytest.raises(StalePlanError) as exc:
        apply_plan(plan, desired_state(), reader=site, writer=site, sleep=lambda _s: None)
    assert str(exc.value) == "the live state changed since this plan was made; run `reconciler plan` again"
    assert site.writes == []


def test_unsafe_plan_is_refused_and_the_message_names_allow_unsafe() -> None:
    site = roles_site()
    plan = make_plan(site, [unassign("HR", ACTOR, "Admin")])
    with pytest.raises(UnsafePlanError) as exc:
        apply_plan(plan, desired_state(), reader=site, writer=site, sleep=lambda _s: None)
    message = str(exc.value)
    findings = check_plan(plan, desired_state(), site.read(()))
    assert message == "\n".join([
        (f"the plan fails {len(findings)} safety check(s); nothing was written "
         "(pass --allow-unsafe to apply it anyway):"),
        *(f"  - {finding.message}" for finding in findings),
    ])
    assert "space HR: the actor user:svc-reconciler would not hold Admin after this plan" in message
    assert site.writes == []


def test_allow_unsafe_applies_an_unsafe_plan() -> None:
    site = roles_site()
    result = run(site, [unassign("HR", ACTOR, "Admin")], allow_unsafe=True)
    assert result.ok
    assert ACTOR not in site.spaces["HR"].assignments


def test_one_rejected_principal_fails_alone_and_the_rest_of_the_space_is_written() -> None:
    site = roles_site()
    site.group_ids["ghosts"] = "gid-ghosts"
    site.rejected.add("gid-ghosts")
    result = run(site, [
        assign("ENG", group("eng-leads"), "Admin"),
        assign("ENG", group("ghosts"), "Viewer"),
        assign("HR", group("hr"), "Manager", old="Viewer"),
    ])
    assert statuses(result) == [
        ("done", ""),
        ("failed",
         "POST /wiki/api/v2/spaces/1/role-assignments (space ENG): 400: invalid principal gid-ghosts"),
        ("done", ""),
    ]
    assert not result.ok
    assert site.spaces["ENG"].assignments[group("eng-leads")] == "Admin"
    assert site.spaces["HR"].assignments[group("hr")] == "Manager"


def test_write_that_succeeded_without_an_answer_is_confirmed_by_a_reread_not_repeated() -> None:
    site = roles_site()
    site.faults.append(Fault(1, transport_error(), after=True))
    sleeps: list[float] = []
    result = run(site, [assign("HR", group("hr"), "Manager", old="Viewer")], sleeps)
    assert statuses(result) == [("done", CONFIRMED)]
    assert site.writes == ["set_role_assignments HR 1"]
    assert result.rereads == 1
    assert sleeps == [0.5]


def test_write_that_failed_with_a_5xx_is_written_again_after_a_reread() -> None:
    site = roles_site()
    site.faults.append(Fault(1, server_error()))
    result = run(site, [assign("HR", group("hr"), "Manager", old="Viewer")])
    assert result.ok
    assert site.writes == ["set_role_assignments HR 1", "set_role_assignments HR 1"]


def test_unknown_outcome_mid_space_rewrites_only_the_remaining_difference() -> None:
    site = FakeSite(RoleMode.PRE_ROLES)
    site.add_space("OPS")
    site.group_ids["contractors"] = "gid-contractors"
    site.faults.append(Fault(1, transport_error(), after=True))
    result = run(site, [
        grant("OPS", group("contractors"), "read/space"),
        grant("OPS", group("contractors"), "create/page"),
    ])
    assert result.ok
    assert site.writes == [
        "add_permission OPS group:contractors read/space",
        "add_permission OPS group:contractors create/page",
    ]


def test_an_outcome_that_stays_unknown_fails_after_three_attempts() -> None:
    site = roles_site()
    site.faults += [Fault(n, server_error()) for n in (1, 2, 3)]
    result = run(site, [assign("HR", group("hr"), "Manager", old="Viewer")])
    assert statuses(result) == [
        ("failed", "outcome unknown after 3 attempts: POST /x: 500: Internal Server Error"),
    ]


def test_failed_read_space_grant_skips_the_principals_other_grants() -> None:
    site = FakeSite(RoleMode.PRE_ROLES)
    site.add_space("OPS")
    site.group_ids["contractors"] = "gid-contractors"
    site.faults.append(Fault(1, server_error().__class__("POST", "/p", 403, "not allowed", space="OPS")))
    result = run(site, [
        grant("OPS", group("contractors"), "read/space"),
        grant("OPS", group("contractors"), "create/page"),
    ])
    assert statuses(result) == [
        ("failed", "POST /p (space OPS): 403: not allowed"),
        ("skipped", "skipped: granting read/space to group:contractors failed"),
    ]
    assert site.writes == ["add_permission OPS group:contractors read/space"]


def test_assignments_to_a_role_that_could_not_be_created_are_skipped() -> None:
    site = roles_site()
    site.faults.append(Fault(1, server_error().__class__("POST", "/wiki/api/v2/space-roles", 400, "limit")))
    result = run(site, [
        RoleChange(REVIEWER),
        assign("HR", user("u-1"), "Reviewer"),
        assign("ENG", group("eng-leads"), "Admin"),
    ])
    assert statuses(result) == [
        ("failed", "POST /wiki/api/v2/space-roles: 400: limit"),
        ("done", ""),
        ("skipped", "skipped: creating role 'Reviewer' failed"),
    ]


def test_unknown_group_fails_without_a_write() -> None:
    site = roles_site()
    result = run(site, [assign("HR", group("nobody"), "Viewer")], allow_unsafe=True)
    assert statuses(result) == [("failed", "group 'nobody' was not found on the site")]
    assert site.writes == []


class LaggingReader:
    """Shows the state as it was before apply for the first ``lag`` reads after writes started."""

    def __init__(self, site: FakeSite, lag: int) -> None:
        self.site = site
        self.lag = lag
        self.before: LiveState | None = None

    def read(self, spaces: Sequence[str]) -> LiveState:
        if self.before is None:
            self.before = self.site.read(spaces)
            return self.before
        if self.lag > 0:
            self.lag -= 1
            return self.before
        return self.site.read(spaces)

    def read_roles(self) -> dict[str, object]:
        return dict(self.site.read_roles())


def test_verification_polls_through_read_after_write_lag() -> None:
    site = roles_site()
    reader = LaggingReader(site, lag=2)
    sleeps: list[float] = []
    plan = make_plan(site, [assign("HR", group("hr"), "Manager", old="Viewer")])
    result = apply_plan(plan, desired_state(), reader=reader, writer=site,  # type: ignore[arg-type]
                        sleep=sleeps.append)
    assert result.ok
    assert result.verify_rounds == 3
    assert sleeps == [0.2, 0.4]


def test_space_that_never_shows_the_write_is_reported_not_converged() -> None:
    site = roles_site()
    reader = LaggingReader(site, lag=100)
    plan = make_plan(site, [assign("HR", group("hr"), "Manager", old="Viewer")])
    result = apply_plan(plan, desired_state(), reader=reader, writer=site,  # type: ignore[arg-type]
                        sleep=lambda _s: None, verify_delays=(0.1, 0.1))
    assert [(nc.space, len(nc.changes)) for nc in result.not_converged] == [("HR", 1)]
    assert result.done
    assert not result.ok
    assert result.verify_rounds == 3


def test_revoke_of_an_already_removed_permission_counts_as_done() -> None:
    site = FakeSite(RoleMode.PRE_ROLES)
    site.add_space("OPS")
    site.add_grants("OPS", group("old"), "read/space")
    change = revoke(site, "OPS", group("old"), "read/space")
    site.faults.append(Fault(1, transport_error("DELETE"), after=True))
    result = run(site, [change])
    assert [r.status for r in result.results] == [Status.DONE]
    assert site.writes == [f"delete_permission OPS {change.permission_id}"]


def test_principal_kinds_map_to_v1_subjects() -> None:
    site = FakeSite(RoleMode.PRE_ROLES)
    site.add_space("PUB")
    anonymous = Principal(PrincipalKind.CLASS, "anonymous-users")
    everyone = Principal(PrincipalKind.CLASS, "all-licensed-users")
    result = run(site, [grant("PUB", anonymous, "read/space"), grant("PUB", everyone, "read/space")])
    assert statuses(result) == [
        ("failed",
         "class:all-licensed-users cannot hold individual permissions (only class:anonymous-users can)"),
        ("done", ""),
    ]
    assert list(site.spaces["PUB"].grants[anonymous]) == ["read/space"]


def test_spaces_applied_concurrently_report_in_plan_order() -> None:
    from concurrent.futures import ThreadPoolExecutor

    site = FakeSite()
    keys = [f"S{i:02d}" for i in range(12)]
    for key in keys:
        site.add_space(key, team="Viewer")
    changes = [assign(key, group("team"), "Collaborator", old="Viewer") for key in keys]
    with ThreadPoolExecutor(max_workers=4) as pool:
        result = run(site, changes, map_spaces=lambda fn, items: list(pool.map(fn, items)))
    assert result.ok
    assert [r.change.space for r in result.results] == keys
    assert dict(result.writes_by_space) == dict.fromkeys(keys, 1)


def test_a_refused_space_fails_every_entry_without_one_request_per_principal() -> None:
    from reconciler.errors import AuthError

    site = roles_site()
    site.faults.append(Fault(1, AuthError("POST", "/wiki/api/v2/spaces/1/role-assignments", 403,
                                          "not allowed to set roles", space="ENG")))
    result = run(site, [
        assign("ENG", group("eng-leads"), "Admin"),
        assign("ENG", group("engineering"), "Collaborator", old="Viewer"),
    ])
    reason = "POST /wiki/api/v2/spaces/1/role-assignments (space ENG): 403: not allowed to set roles"
    assert statuses(result) == [("failed", reason), ("failed", reason)]
    assert site.writes == ["set_role_assignments ENG 2"]


class RefusingAppWriter:
    writes = 0

    def apply_rule(self, rule: object, steps: Sequence[object]) -> list[str | None]:
        return ["data security rule appAccess changed on the org since the plan was made"] * len(steps)


def test_a_refused_app_policy_change_fails_alone_and_removals_still_run() -> None:
    from reconciler.model import CONTAINER, DataSecurityPolicy, DsRule, Effect

    site = roles_site()
    policy = DataSecurityPolicy(DsRule.APP_ACCESS, Effect.BLOCK, CONTAINER, "all_apps", ("HR",))
    result = run(site, [
        AppPolicyChange(policy),
        unassign("ENG", group("contractors"), "Viewer"),
    ], app_writer=RefusingAppWriter())
    assert statuses(result) == [
        ("failed", "data security rule appAccess changed on the org since the plan was made"),
        ("done", ""),
    ]
