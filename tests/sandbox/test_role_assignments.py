"""v2 role assignments: filters, array body (omit roleId to remove), the older single object, 413, rules."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox.site import Site
from tests.sandbox.doors import BOB, HEIDI, Door
from tests.sandbox.roles_helpers import assignment, role_id_of

ENG = "/wiki/api/v2/spaces/1441793/role-assignments"
ALICE = "5b10ac8d82e05b22cc7d4ef5"
BOB_ID = "5b10ac8d82e05b22cc7d4ef6"


def _eng(site: Site) -> dict[tuple[str, str], str]:
    space = site.state.space_by_key("ENG")
    assert space is not None
    return {p: site.state.roles[r].name for p, r in space.assignments.items()}


def test_lists_assignments_with_filters(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    admin_id = role_id_of(sandbox_site, "Admin")
    admins = client.get(ENG, params={"role-id": admin_id}).json()["results"]
    assert len(admins) == 3
    assert all(a["roleId"] == admin_id for a in admins)
    bob = client.get(ENG, params={"principal-type": "USER", "principal-id": BOB_ID}).json()["results"]
    assert bob == [assignment("USER", BOB_ID, role_id_of(sandbox_site, "Collaborator"))]
    assert client.get(ENG, params={"role-type": "CUSTOM"}).json()["results"] == []


def test_array_body_assigns_changes_and_removes_in_one_call(door: Door, sandbox_site: Site) -> None:
    engineering = sandbox_site.state.group_by_name("engineering")
    assert engineering is not None
    body = [
        assignment("USER", ALICE, role_id_of(sandbox_site, "Manager")),
        assignment("GROUP", engineering.id, role_id_of(sandbox_site, "Collaborator")),
        assignment("USER", BOB_ID),
        assignment("ACCESS_CLASS", "anonymous-users"),  # not assigned: removing it is a no-op
    ]
    response = door.client(sandbox_site).post(ENG, json=body)
    assert response.status_code == 200
    assert response.json()["results"] == body[:2]
    roles = _eng(sandbox_site)
    assert roles[("USER", ALICE)] == "Manager"
    assert roles[("GROUP", engineering.id)] == "Collaborator"
    assert ("USER", BOB_ID) not in roles


def test_the_older_single_object_body_is_400(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).post(
        ENG, json=assignment("USER", ALICE, role_id_of(sandbox_site, "Viewer"))
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "The request body must be an array of role assignments"
    assert ("USER", ALICE) not in _eng(sandbox_site)


def test_one_role_per_principal_per_space(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    manager = assignment("USER", BOB_ID, role_id_of(sandbox_site, "Manager"))
    client.post(ENG, json=[manager]).raise_for_status()
    bob = client.get(ENG, params={"principal-type": "USER", "principal-id": BOB_ID}).json()["results"]
    assert bob == [manager]


def test_a_role_moves_a_principal_off_custom_access(door: Door, sandbox_site: Site) -> None:
    contractors = sandbox_site.state.group_by_name("contractors")
    assert contractors is not None
    client = door.client(sandbox_site)
    response = client.post(
        "/wiki/api/v2/spaces/1474561/role-assignments",
        json=[assignment("GROUP", contractors.id, role_id_of(sandbox_site, "Viewer"))],
    )
    assert response.status_code == 200
    assert client.get("/wiki/api/v2/spaces/1474561/permissions").json()["results"] == []


def test_the_whole_request_fails_when_one_entry_is_invalid(door: Door, sandbox_site: Site) -> None:
    before = _eng(sandbox_site)
    body = [assignment("USER", ALICE, role_id_of(sandbox_site, "Manager")),
            assignment("GROUP", "no-such-group", "x")]
    response = door.client(sandbox_site).post(ENG, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "No group found with id 'no-such-group'"
    assert _eng(sandbox_site) == before


@pytest.mark.parametrize(
    ("entry", "detail"),
    [
        (
            assignment("ROBOT", "r2d2", "x"),
            "Invalid principal type 'ROBOT': expected one of USER, GROUP, ACCESS_CLASS",
        ),
        (assignment("USER", ALICE, "no-role"), "No space role found with id 'no-role'"),
        (
            assignment("ACCESS_CLASS", "everyone", None),
            (
                "Invalid access class 'everyone': expected one of anonymous-users, authenticated-users, "
                "all-licensed-users, all-product-admins, jsm-project-admins"
            ),
        ),
        ({"roleId": "x"}, "Entry 0: 'principal' with 'principalType' and 'principalId' is required"),
    ],
    ids=["bad principal type", "unknown role", "unknown access class", "no principal"],
)
def test_invalid_entry_is_400(door: Door, sandbox_site: Site, entry: dict[str, Any], detail: str) -> None:
    response = door.client(sandbox_site).post(ENG, json=[entry])
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == detail


def test_guest_cannot_hold_a_role_with_space_admin(door: Door, sandbox_site: Site) -> None:
    body = [assignment("USER", "5b10a2844c20165700ede21a", role_id_of(sandbox_site, "Admin"))]
    response = door.client(sandbox_site).post("/wiki/api/v2/spaces/1638401/role-assignments", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == (
        "Guests cannot be granted administer/space, export/space, restrict_content/space"
    )


def test_removing_every_admin_is_400(door: Door, sandbox_site: Site) -> None:
    state = sandbox_site.state
    hr = state.space_by_key("HR")
    assert hr is not None
    admins = [p for p, r in hr.assignments.items() if state.roles[r].name == "Admin"]
    response = door.client(sandbox_site).post(
        "/wiki/api/v2/spaces/1507329/role-assignments", json=[assignment(p[0], p[1]) for p in admins]
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == (
        "Space HR must keep at least one principal with administer/space"
    )
    assert len(admins) == 3


def test_body_over_5_mb_is_413(door: Door, sandbox_site: Site) -> None:
    entry = assignment("USER", ALICE)
    body = [entry] * 80_000  # about 6 MB of JSON
    response = door.client(sandbox_site).post(ENG, json=body)
    assert response.status_code == 413
    assert response.json()["errors"][0] == {
        "status": 413,
        "code": "REQUEST_ENTITY_TOO_LARGE",
        "title": "Request Entity Too Large",
        "detail": "The request is too large in size (over 5 MB)",
    }


def test_non_admin_setting_roles_gets_404(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site, auth=BOB).post(
        ENG, json=[assignment("USER", BOB_ID, role_id_of(sandbox_site, "Admin"))]
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == (
        "The calling user does not have permission to set roles in the space, or the space was not found"
    )
    assert _eng(sandbox_site)[("USER", BOB_ID)] == "Collaborator"


def test_space_admin_who_is_not_site_admin_may_set_roles(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site, auth=HEIDI).post(
        "/wiki/api/v2/spaces/1507329/role-assignments",
        json=[assignment("USER", ALICE, role_id_of(sandbox_site, "Viewer"))],
    )
    assert response.status_code == 200
