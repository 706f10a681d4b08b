"""v2 space roles: list with filters, get, create 201, update 202 + taskId, delete 202 + taskId, limits."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.site import Site
from tests.sandbox.doors import BOB, Door
from tests.sandbox.roles_helpers import role_id_of

ROLES = "/wiki/api/v2/space-roles"


def _create(client: httpx.Client, name: str, perms: list[str] | None = None) -> httpx.Response:
    body = {"name": name, "description": f"{name} role", "spacePermissions": perms or ["read/space"]}
    return client.post(ROLES, json=body)


def test_lists_system_roles_first_then_custom_roles(door: Door, sandbox_site: Site) -> None:
    body = door.client(sandbox_site).get(ROLES).json()
    assert [(r["name"], r["type"]) for r in body["results"]] == [
        ("Admin", "SYSTEM"),
        ("Manager", "SYSTEM"),
        ("Collaborator", "SYSTEM"),
        ("Viewer", "SYSTEM"),
        ("Legal Reviewer", "CUSTOM"),
        ("Old Auditor", "CUSTOM"),
    ]
    viewer = body["results"][3]
    assert viewer == {
        "id": role_id_of(sandbox_site, "Viewer"),
        "type": "SYSTEM",
        "name": "Viewer",
        "description": "Views and comments",
        "spacePermissions": ["read/space", "create/comment"],
    }


def test_filters_roles_by_type_and_principal(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    custom = client.get(ROLES, params={"role-type": "CUSTOM"}).json()["results"]
    assert [r["name"] for r in custom] == ["Legal Reviewer", "Old Auditor"]
    dave = client.get(ROLES, params={"principal-type": "USER", "principal-id": "5b10ac8d82e05b22cc7d4ef8"})
    assert [r["name"] for r in dave.json()["results"]] == ["Legal Reviewer"]
    in_eng = client.get(
        ROLES,
        params={"space-id": "1441793", "principal-type": "USER", "principal-id": "5b10ac8d82e05b22cc7d4ef8"},
    )
    assert in_eng.json()["results"] == []


def test_principal_id_without_type_is_400(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).get(ROLES, params={"principal-id": "x"})
    assert response.status_code == 400
    assert (
        response.json()["errors"][0]["detail"] == "'principal-id' and 'principal-type' must be given together"
    )


def test_get_one_role_with_a_base_link(door: Door, sandbox_site: Site) -> None:
    role_id = role_id_of(sandbox_site, "Legal Reviewer")
    body = door.client(sandbox_site).get(f"{ROLES}/{role_id}").json()
    assert body["name"] == "Legal Reviewer"
    assert body["_links"] == {"base": door.base_url(sandbox_site) + "/wiki"}


def test_unknown_role_is_404(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).get(f"{ROLES}/nope")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == "No space role found with id 'nope'"


def test_create_role_answers_201_with_the_role(door: Door, sandbox_site: Site) -> None:
    response = _create(
        door.client(sandbox_site), "Release Manager", ["read/space", "create/page", "archive/page"]
    )
    assert response.status_code == 201
    body = response.json()
    assert body["type"] == "CUSTOM"
    assert body["spacePermissions"] == ["archive/page", "create/page", "read/space"]
    assert sandbox_site.state.roles[body["id"]].name == "Release Manager"


def test_the_eleventh_custom_role_is_400(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    for number in range(8):  # the demo site has 2 custom roles already
        assert _create(client, f"Role {number}").status_code == 201
    response = _create(client, "One too many")
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "You can create up to 10 custom roles in Confluence."
    assert sum(1 for r in sandbox_site.state.roles.values() if r.type == "CUSTOM") == 10


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"name": "Viewer", "description": "", "spacePermissions": ["read/space"]},
            "A space role named 'Viewer' already exists",
        ),
        (
            {"name": "X", "description": "", "spacePermissions": ["read/space", "fly/space"]},
            "Unknown space permission ids: fly/space",
        ),
        (
            {"name": "X", "description": "", "spacePermissions": ["create/page"]},
            "Every space permission requires read/space",
        ),
        ({"name": "X", "spacePermissions": ["read/space"]}, "'description' is required and must be a string"),
    ],
    ids=["name taken", "unknown permission", "without read/space", "no description"],
)
def test_invalid_role_body_is_400(
    door: Door, sandbox_site: Site, body: dict[str, object], detail: str
) -> None:
    response = door.client(sandbox_site).post(ROLES, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == detail


def test_update_answers_202_with_a_task_id_and_takes_effect_a_request_later(
    door: Door, sandbox_site: Site
) -> None:
    role_id = role_id_of(sandbox_site, "Legal Reviewer")
    body = {
        "name": "Legal Reviewer",
        "description": "Reads everything and comments on drafts",
        "spacePermissions": ["read/space", "create/comment", "export/space"],
    }
    client = door.client(sandbox_site)
    response = client.put(f"{ROLES}/{role_id}", json=body)
    assert response.status_code == 202
    data = response.json()
    assert set(data) == {"id", "type", "name", "description", "taskId"}
    assert isinstance(data["taskId"], str)
    assert (data["id"], data["description"]) == (role_id, "Reads everything and comments on drafts")
    stale = client.get(f"{ROLES}/{role_id}").json()  # a read right after shows the old state
    assert stale["spacePermissions"] == ["read/space", "create/comment"]
    fresh = client.get(f"{ROLES}/{role_id}").json()
    assert fresh["spacePermissions"] == ["create/comment", "export/space", "read/space"]
    assert sandbox_site.state.roles[role_id].permissions == ["create/comment", "export/space", "read/space"]


def test_a_description_only_update_has_a_null_task_id_and_is_seen_at_once(
    door: Door, sandbox_site: Site
) -> None:
    role_id = role_id_of(sandbox_site, "Legal Reviewer")
    body = {"name": "Legal Reviewer", "description": "New words",
            "spacePermissions": ["read/space", "create/comment"]}
    client = door.client(sandbox_site)
    response = client.put(f"{ROLES}/{role_id}", json=body)
    assert (response.status_code, response.json()["taskId"]) == (202, None)
    assert client.get(f"{ROLES}/{role_id}").json()["description"] == "New words"


def test_with_no_task_lag_an_update_is_seen_by_the_next_read(door: Door, sandbox_site: Site) -> None:
    sandbox_site.configure(Knobs(role_task_lag=0))
    role_id = role_id_of(sandbox_site, "Legal Reviewer")
    body = {"name": "Legal Reviewer", "description": "d", "spacePermissions": ["read/space"]}
    client = door.client(sandbox_site)
    assert client.put(f"{ROLES}/{role_id}", json=body).status_code == 202
    assert client.get(f"{ROLES}/{role_id}").json()["spacePermissions"] == ["read/space"]


def test_system_roles_cannot_be_changed(door: Door, sandbox_site: Site) -> None:
    role_id = role_id_of(sandbox_site, "Viewer")
    response = door.client(sandbox_site).delete(f"{ROLES}/{role_id}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "The system role 'Viewer' cannot be changed or deleted"


def test_delete_answers_202_with_a_task_id_and_the_role_lingers_for_one_read(
    door: Door, sandbox_site: Site
) -> None:
    role_id = role_id_of(sandbox_site, "Old Auditor")
    client = door.client(sandbox_site)
    response = client.delete(f"{ROLES}/{role_id}")
    assert response.status_code == 202
    assert set(response.json()) == {"taskId"}
    assert client.get(f"{ROLES}/{role_id}").status_code == 200  # stale, as folio-sec saw live
    assert client.get(f"{ROLES}/{role_id}").status_code == 404
    assert role_id not in sandbox_site.state.roles


def test_deleting_an_assigned_role_is_allowed_with_the_knob_off(door: Door, sandbox_site: Site) -> None:
    sandbox_site.configure(Knobs(refuse_delete_assigned_role=False))
    response = door.client(sandbox_site).delete(f"{ROLES}/{role_id_of(sandbox_site, 'Legal Reviewer')}")
    assert response.status_code == 202


def test_deleting_an_assigned_role_is_400(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).delete(f"{ROLES}/{role_id_of(sandbox_site, 'Legal Reviewer')}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == (
        "The space role is assigned in 1 space(s) (LEGAL); remove those assignments first"
    )


def test_role_crud_needs_a_site_admin(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site, auth=BOB)
    response = _create(client, "Sneaky")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == (
        "The calling user does not have permission to create space roles"
    )
    assert client.delete(f"{ROLES}/{role_id_of(sandbox_site, 'Old Auditor')}").status_code == 404


def test_role_endpoints_are_missing_before_roles(door: Door, sandbox_site: Site) -> None:
    sandbox_site.state.mode = "PRE_ROLES"
    client = door.client(sandbox_site)
    assert client.get(ROLES).status_code == 404
    assert client.get("/wiki/api/v2/space-role-mode").json() == {"mode": "PRE_ROLES"}
