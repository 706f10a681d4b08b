"""Removals wait for a clean run: an addition that fails or is skipped in a space holds that space's removals.

The promise: apply never removes access nobody asked to remove. A typo in the policy (``group:engineerng``
in an exact space) plans an assign that cannot be written and an unassign of the real group; the unassign
must not be sent.
"""

from __future__ import annotations

from reconciler.apply import ApplyResult
from reconciler.errors import ApiError
from reconciler.model import RoleMode
from reconciler.plan.changes import ACCESS_CHANGES, Change, RoleChange
from tests.apply.fakes import ACTOR, FakeSite, Fault, group, transport_error, user
from tests.apply.test_engine import REVIEWER, assign, grant, revoke, roles_site, run, unassign

HELD = "not removed: an addition in this space failed, so removals wait for a clean run"


def outcomes(result: ApplyResult) -> list[tuple[str, str, str]]:
    """(space principal: what, status, reason) of every change, in plan order."""
    return [
        (f"{_where(r.change)} {r.change.kind.name}",
         r.status.value, r.reason)
        for r in result.results
    ]


def _where(change: Change) -> str:
    return f"{change.space} {change.principal.ref}" if isinstance(change, ACCESS_CHANGES) else "None -"


def test_unknown_group_holds_the_space_removals_and_only_its_additions_are_sent() -> None:
    site = roles_site()
    result = run(site, [
        assign("ENG", group("engineerng"), "Collaborator"),
        assign("ENG", group("eng-leads"), "Admin"),
        unassign("ENG", group("engineering"), "Viewer"),
        unassign("ENG", group("contractors"), "Viewer"),
        assign("HR", group("hr"), "Manager", old="Viewer"),
    ], allow_unsafe=True)  # the plan's safety check names the unknown group; apply must hold anyway
    assert outcomes(result) == [
        ("ENG group:eng-leads ASSIGN", "done", ""),
        ("ENG group:engineerng ASSIGN", "failed", "group 'engineerng' was not found on the site"),
        ("HR group:hr REASSIGN", "done", ""),
        ("ENG group:contractors UNASSIGN", "skipped", HELD),
        ("ENG group:engineering UNASSIGN", "skipped", HELD),
    ]
    assert site.writes == ["set_role_assignments ENG 1", "set_role_assignments HR 1"]
    assert site.spaces["ENG"].assignments == {
        ACTOR: "Admin", group("engineering"): "Viewer", group("contractors"): "Viewer",
        group("eng-leads"): "Admin",
    }
    assert not result.ok


def test_addition_rejected_in_the_per_principal_retry_holds_the_removals() -> None:
    site = roles_site()
    site.group_ids["ghosts"] = "gid-ghosts"
    site.rejected.add("gid-ghosts")
    result = run(site, [
        assign("ENG", group("ghosts"), "Viewer"),
        assign("ENG", group("eng-leads"), "Admin"),
        unassign("ENG", group("contractors"), "Viewer"),
    ])
    assert outcomes(result) == [
        ("ENG group:eng-leads ASSIGN", "done", ""),
        ("ENG group:ghosts ASSIGN", "failed",
         "POST /wiki/api/v2/spaces/1/role-assignments (space ENG): 400: invalid principal gid-ghosts"),
        ("ENG group:contractors UNASSIGN", "skipped", HELD),
    ]
    assert site.writes == [
        "set_role_assignments ENG 3", "set_role_assignments ENG 1", "set_role_assignments ENG 1",
    ]
    assert site.spaces["ENG"].assignments[group("contractors")] == "Viewer"


def test_rejected_removal_fails_alone_once_every_addition_is_written() -> None:
    site = roles_site()
    site.rejected.add("gid-contractors")
    result = run(site, [
        assign("ENG", group("eng-leads"), "Admin"),
        unassign("ENG", group("contractors"), "Viewer"),
        unassign("ENG", group("engineering"), "Viewer"),
    ])
    assert outcomes(result) == [
        ("ENG group:eng-leads ASSIGN", "done", ""),
        ("ENG group:contractors UNASSIGN", "failed",
         "POST /wiki/api/v2/spaces/1/role-assignments (space ENG): 400: invalid principal gid-contractors"),
        ("ENG group:engineering UNASSIGN", "done", ""),
    ]
    assert site.writes == [
        "set_role_assignments ENG 3", "set_role_assignments ENG 1", "set_role_assignments ENG 1",
        "set_role_assignments ENG 1",
    ]


def test_assignment_skipped_for_a_role_not_created_holds_the_space_removals() -> None:
    site = roles_site()
    site.faults.append(Fault(1, ApiError("POST", "/wiki/api/v2/space-roles", 400, "limit")))
    result = run(site, [
        RoleChange(REVIEWER),
        assign("ENG", group("engineering"), "Reviewer", old="Viewer"),
        unassign("ENG", group("contractors"), "Viewer"),
    ])
    assert outcomes(result) == [
        ("None - CREATE_ROLE", "failed", "POST /wiki/api/v2/space-roles: 400: limit"),
        ("ENG group:engineering REASSIGN", "skipped", "skipped: creating role 'Reviewer' failed"),
        ("ENG group:contractors UNASSIGN", "skipped", HELD),
    ]
    assert site.writes == ["create_role Reviewer"]
    assert site.spaces["ENG"].assignments[group("contractors")] == "Viewer"


def test_removals_stay_held_across_a_reread_after_an_unknown_outcome() -> None:
    site = roles_site()
    site.group_ids["aaa-ghosts"] = "gid-aaa-ghosts"
    site.rejected.add("gid-aaa-ghosts")
    site.faults.append(Fault(3, transport_error()))  # eng-leads alone: no answer, not written
    result = run(site, [
        assign("ENG", group("aaa-ghosts"), "Viewer"),
        assign("ENG", group("eng-leads"), "Admin"),
        unassign("ENG", group("contractors"), "Viewer"),
    ])
    assert outcomes(result) == [
        ("ENG group:aaa-ghosts ASSIGN", "failed",
         "POST /wiki/api/v2/spaces/1/role-assignments (space ENG): 400: invalid principal gid-aaa-ghosts"),
        ("ENG group:eng-leads ASSIGN", "done", ""),
        ("ENG group:contractors UNASSIGN", "skipped", HELD),
    ]
    assert site.writes == ["set_role_assignments ENG 3"] + ["set_role_assignments ENG 1"] * 3
    assert site.spaces["ENG"].assignments[group("contractors")] == "Viewer"


def test_failed_grant_holds_the_principals_revokes_and_read_space_stays() -> None:
    site = FakeSite(RoleMode.PRE_ROLES)
    site.add_space("OPS")
    site.add_space("DOCS")
    site.add_grants("OPS", group("contractors"), "read/space", "create/comment")
    site.add_grants("DOCS", group("old"), "read/space")
    refused = ApiError("POST", "/p", 403, "not allowed", space="OPS")
    site.faults.append(Fault(1, refused))
    changes = [
        grant("OPS", group("contractors"), "create/page"),
        revoke(site, "OPS", group("contractors"), "create/comment"),
        revoke(site, "OPS", group("contractors"), "read/space"),
        revoke(site, "DOCS", group("old"), "read/space"),
    ]
    result = run(site, changes, allow_unsafe=True)
    assert outcomes(result) == [
        ("OPS group:contractors GRANT", "failed", "POST /p (space OPS): 403: not allowed"),
        ("DOCS group:old REVOKE", "done", ""),
        ("OPS group:contractors REVOKE", "skipped", HELD),
        ("OPS group:contractors REVOKE", "skipped", HELD),
    ]
    assert site.writes == [
        "add_permission OPS group:contractors create/page",
        f"delete_permission DOCS {changes[3].permission_id}",
    ]
    assert sorted(site.spaces["OPS"].grants[group("contractors")]) == ["create/comment", "read/space"]


def test_grant_to_an_unknown_group_holds_the_revokes_of_the_real_group() -> None:
    site = FakeSite(RoleMode.PRE_ROLES)
    site.add_space("OPS")
    site.add_grants("OPS", group("engineering"), "read/space", "create/page")
    site.add_grants("OPS", user("u-1"), "read/space")
    changes = [
        grant("OPS", group("engineerng"), "read/space"),
        revoke(site, "OPS", group("engineering"), "create/page"),
        revoke(site, "OPS", group("engineering"), "read/space"),
        revoke(site, "OPS", user("u-1"), "read/space"),
    ]
    result = run(site, changes, allow_unsafe=True)
    assert outcomes(result) == [
        ("OPS group:engineerng GRANT", "failed", "group 'engineerng' was not found on the site"),
        ("OPS group:engineering REVOKE", "skipped", HELD),
        ("OPS group:engineering REVOKE", "skipped", HELD),
        ("OPS user:u-1 REVOKE", "skipped", HELD),
    ]
    assert site.writes == []
