"""The rules no source describes (reconciler/sandbox/unverified.py): on by default, each behind a knob that a
test or a user who learns what the real API does can switch off, and each listed in docs/sandbox.md."""

from __future__ import annotations

from pathlib import Path

from reconciler.sandbox import unverified
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.site import Site
from tests.sandbox.doors import Door
from tests.sandbox.roles_helpers import assignment, role_id_of

HR = "/wiki/api/v2/spaces/1507329/role-assignments"
DOCS = "/wiki/api/v2/spaces/1638401/role-assignments"
OPS = "/wiki/api/v2/spaces/1474561/role-assignments"
ROLES = "/wiki/api/v2/space-roles"
GINA = "5b10a2844c20165700ede21a"
ALICE = "5b10ac8d82e05b22cc7d4ef5"
REPO = Path(__file__).resolve().parents[2]


def test_without_the_last_admin_guard_every_admin_can_be_unassigned(door: Door, sandbox_site: Site) -> None:
    sandbox_site.configure(Knobs(last_admin_guard=False))
    state = sandbox_site.state
    hr = state.space_by_key("HR")
    assert hr is not None
    admins = [p for p, r in hr.assignments.items() if state.roles[r].name == "Admin"]
    response = door.client(sandbox_site).post(HR, json=[assignment(p[0], p[1]) for p in admins])
    assert response.status_code == 200
    assert not any(state.roles[r].name == "Admin" for r in hr.assignments.values())


def test_the_status_of_the_eleventh_custom_role_is_a_knob(door: Door, sandbox_site: Site) -> None:
    sandbox_site.configure(Knobs(custom_role_limit_status=403))
    client = door.client(sandbox_site)
    statuses = [
        client.post(ROLES, json={"name": f"R{i}", "description": "d", "spacePermissions": ["read/space"]})
        .status_code
        for i in range(9)
    ]
    assert statuses == [201] * 8 + [403]  # the demo has 2 custom roles; 10 is the documented limit


def test_without_the_duplicate_refusal_the_last_entry_for_a_principal_wins(
    door: Door, sandbox_site: Site
) -> None:
    sandbox_site.configure(Knobs(refuse_duplicate_principal=False))
    body = [assignment("USER", ALICE, role_id_of(sandbox_site, "Viewer")),
            assignment("USER", ALICE, role_id_of(sandbox_site, "Manager"))]
    assert door.client(sandbox_site).post(HR, json=body).status_code == 200
    hr = sandbox_site.state.space_by_key("HR")
    assert hr is not None
    assert hr.assignments[("USER", ALICE)] == role_id_of(sandbox_site, "Manager")


def test_without_clearing_an_assigned_principal_keeps_its_legacy_rows(door: Door, sandbox_site: Site) -> None:
    sandbox_site.configure(Knobs(assignment_clears_permissions=False))
    contractors = sandbox_site.state.group_by_name("contractors")
    assert contractors is not None
    body = [assignment("GROUP", contractors.id, role_id_of(sandbox_site, "Viewer"))]
    assert door.client(sandbox_site).post(OPS, json=body).status_code == 200
    ops = sandbox_site.state.space_by_key("OPS")
    assert ops is not None
    assert [p.perm_id for p in ops.permissions.values() if p.principal[1] == contractors.id] == ["read/space"]


def test_without_guest_role_limits_a_guest_may_hold_admin(door: Door, sandbox_site: Site) -> None:
    sandbox_site.configure(Knobs(guest_role_limits=False))
    body = [assignment("USER", GINA, role_id_of(sandbox_site, "Admin"))]
    assert door.client(sandbox_site).post(DOCS, json=body).status_code == 200


def test_every_unverified_knob_is_a_knob_and_is_listed_in_docs_sandbox_md() -> None:
    described = Knobs().describe()
    text = (REPO / "docs" / "sandbox.md").read_text(encoding="utf-8")
    section = text.split("## Unverified rules", 1)[1].split("\n## ", 1)[0]
    for name in unverified.KNOB_DOCS:
        assert name in described
        assert f"`{name}`" in section
