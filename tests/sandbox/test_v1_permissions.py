"""v1 add/remove space permission: pairs, duplicates, read/space first, cascade, last admin, ROLES mode."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.site import Site
from tests.sandbox.doors import BOB, HEIDI, Door

OPS_PERMISSION = "/wiki/rest/api/space/OPS/permission"


def _group_id(site: Site, name: str) -> str:
    group = site.state.group_by_name(name)
    assert group is not None
    return group.id


def _grant(client: httpx.Client, subject: dict[str, str], perm: str, key: str = "OPS") -> httpx.Response:
    op_key, _, target = perm.partition("/")
    body = {"subject": subject, "operation": {"key": op_key, "target": target}}
    return client.post(f"/wiki/rest/api/space/{key}/permission", json=body)


def _legacy(site: Site, key: str) -> set[tuple[str, str]]:
    space = site.state.space_by_key(key)
    assert space is not None
    return {(p.principal[1], p.perm_id) for p in space.permissions.values()}


def _v1_error(status: int, message: str, reason: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "data": {
            "authorized": status not in (401, 403),
            "valid": status != 400,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": message,
        "reason": reason,
    }


def test_grant_returns_an_integer_id_and_the_permission(door: Door, sandbox_site: Site) -> None:
    contractors = _group_id(sandbox_site, "contractors")
    response = _grant(door.client(sandbox_site), {"type": "group", "identifier": contractors}, "create/page")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == 100002
    assert body["subject"] == {"type": "group", "identifier": contractors}
    assert body["operation"] == {"key": "create", "target": "page"}
    assert _legacy(sandbox_site, "OPS") == {(contractors, "read/space"), (contractors, "create/page")}


def test_group_may_be_named_by_name(door: Door, sandbox_site: Site) -> None:
    response = _grant(
        door.client(sandbox_site), {"type": "group", "identifier": "contractors"}, "create/comment"
    )
    assert response.status_code == 200
    assert (_group_id(sandbox_site, "contractors"), "create/comment") in _legacy(sandbox_site, "OPS")


def test_duplicate_grant_is_400(door: Door, sandbox_site: Site) -> None:
    response = _grant(door.client(sandbox_site), {"type": "group", "identifier": "contractors"}, "read/space")
    assert response.status_code == 400
    assert response.json() == _v1_error(
        400, "Permission already exists for the given user or group.", "Bad Request"
    )


def test_anything_before_read_space_is_400(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    response = _grant(client, {"type": "user", "identifier": "5b10ac8d82e05b22cc7d4ef6"}, "create/page")
    assert response.status_code == 400
    assert response.json()["message"] == "'read space' permission doesn't exist for the given user or group."
    assert (
        _grant(client, {"type": "user", "identifier": "5b10ac8d82e05b22cc7d4ef6"}, "read/space").status_code
        == 200
    )
    assert (
        _grant(client, {"type": "user", "identifier": "5b10ac8d82e05b22cc7d4ef6"}, "create/page").status_code
        == 200
    )


@pytest.mark.parametrize("perm", ["update/page", "purge_version/space", "read/page", "administer/page"])
def test_undocumented_key_target_pair_is_400(door: Door, sandbox_site: Site, perm: str) -> None:
    response = _grant(door.client(sandbox_site), {"type": "group", "identifier": "contractors"}, perm)
    key, _, target = perm.partition("/")
    assert response.status_code == 400
    assert (
        response.json()["message"]
        == f"Invalid operation: '{key}' is not a valid operation for target '{target}'"
    )


def test_unknown_group_is_400(door: Door, sandbox_site: Site) -> None:
    response = _grant(
        door.client(sandbox_site), {"type": "group", "identifier": "no-such-group"}, "read/space"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "No group found with the given groupName or groupId"


def test_guest_cannot_be_given_space_admin(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    gina = {"type": "user", "identifier": "5b10a2844c20165700ede21a"}
    assert _grant(client, gina, "read/space").status_code == 200
    response = _grant(client, gina, "administer/space")
    assert response.status_code == 400
    assert response.json()["message"] == "Guests cannot be granted administer/space"


def test_removing_read_space_removes_all_of_that_principals_permissions(
    door: Door, sandbox_site: Site
) -> None:
    client = door.client(sandbox_site)
    contractors = {"type": "group", "identifier": "contractors"}
    ids = [_grant(client, contractors, p).json()["id"] for p in ("create/page", "create/comment")]
    assert ids == [100002, 100003]
    assert client.delete(f"{OPS_PERMISSION}/100001").status_code == 204
    assert _legacy(sandbox_site, "OPS") == set()


def test_removing_another_permission_leaves_read_space(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    perm_id = _grant(client, {"type": "group", "identifier": "contractors"}, "create/page").json()["id"]
    assert client.delete(f"{OPS_PERMISSION}/{perm_id}").status_code == 204
    assert _legacy(sandbox_site, "OPS") == {(_group_id(sandbox_site, "contractors"), "read/space")}


def test_unknown_permission_id_is_404(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).delete(f"{OPS_PERMISSION}/999")
    assert response.status_code == 404
    assert response.json() == _v1_error(404, "No permission with id 999 in space OPS", "Not Found")


def test_removing_the_last_admin_permission_is_400(door: Door, sandbox_site: Site) -> None:
    space = sandbox_site.state.space_by_key("OPS")
    assert space is not None
    client = door.client(sandbox_site)
    svc = {"type": "user", "identifier": "712020:5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}
    read_id = _grant(client, svc, "read/space").json()["id"]
    admin_id = _grant(client, svc, "administer/space").json()["id"]
    space.assignments.clear()  # only the legacy administer/space is left as an admin
    for perm_id in (admin_id, read_id):
        response = client.delete(f"{OPS_PERMISSION}/{perm_id}")
        assert response.status_code == 400
        assert response.json()["message"] == "All of the admin permissions cannot be removed from a space."
    assert {perm for _, perm in _legacy(sandbox_site, "OPS")} == {"read/space", "administer/space"}


def test_every_v1_write_is_refused_in_roles_mode(door: Door, sandbox_site: Site) -> None:
    sandbox_site.state.mode = "ROLES"
    client = door.client(sandbox_site)
    message = (
        "InvalidRbacOperationException: Space permission updates that are not from RBAC are not "
        "supported in roles-only mode"
    )
    for response in (
        _grant(client, {"type": "group", "identifier": "contractors"}, "create/page"),
        client.delete(f"{OPS_PERMISSION}/100001"),
    ):
        assert response.status_code == 400
        assert response.json() == _v1_error(400, message, "Bad Request")
    assert len(_legacy(sandbox_site, "OPS")) == 1


def test_non_admin_of_a_visible_space_gets_403(door: Door, sandbox_site: Site) -> None:
    response = _grant(
        door.client(sandbox_site, auth=BOB), {"type": "group", "identifier": "contractors"}, "create/page"
    )
    assert response.status_code == 403
    assert response.json() == _v1_error(
        403, "The user is not authorized to administer space OPS", "Forbidden"
    )


def test_space_the_caller_cannot_see_is_404(door: Door, sandbox_site: Site) -> None:
    response = _grant(
        door.client(sandbox_site, auth=HEIDI), {"type": "group", "identifier": "hr"}, "read/space", key="FIN"
    )
    assert response.status_code == 404
    assert response.json()["message"] == "No space with key : FIN"


def test_unknown_space_is_404(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).delete("/wiki/rest/api/space/NOPE/permission/100001")
    assert response.status_code == 404
    assert response.json()["message"] == "No space with key : NOPE"


def test_space_admin_via_a_role_may_grant(door: Door, sandbox_site: Site) -> None:
    response = _grant(
        door.client(sandbox_site, auth=HEIDI),
        {"type": "group", "identifier": "legal"},
        "read/space",
        key="HR",
    )
    assert response.status_code == 200


@pytest.mark.parametrize("token", [None, "check", ""])
def test_a_v1_write_without_the_xsrf_header_is_403(
    door: Door, sandbox_site: Site, token: str | None
) -> None:
    contractors = _group_id(sandbox_site, "contractors")
    headers = {} if token is None else {"X-Atlassian-Token": token}
    client = door.client(sandbox_site, headers=headers, xsrf=False)
    response = _grant(client, {"type": "group", "identifier": contractors}, "create/page")
    assert response.status_code == 403
    assert response.json() == _v1_error(403, "XSRF check failed", "Forbidden")
    assert client.delete(f"{OPS_PERMISSION}/100001").status_code == 403
    assert _legacy(sandbox_site, "OPS") == {(contractors, "read/space")}


def test_the_xsrf_check_can_be_switched_off(door: Door, sandbox_site: Site) -> None:
    sandbox_site.configure(Knobs(xsrf_check=False))
    contractors = _group_id(sandbox_site, "contractors")
    client = door.client(sandbox_site, xsrf=False)
    assert _grant(client, {"type": "group", "identifier": contractors}, "create/page").status_code == 200


def test_on_a_live_site_a_grant_brings_its_companion_and_revoking_it_takes_it_along(
    door: Door
) -> None:
    site = Site(seed_state("demo+live"))
    marketing = _group_id(site, "marketing")
    client = door.client(site)
    read = _grant(client, {"type": "group", "identifier": marketing}, "read/space").json()["id"]
    page = _grant(client, {"type": "group", "identifier": marketing}, "create/page").json()["id"]
    assert {perm for who, perm in _legacy(site, "OPS") if who == marketing} == {
        "read/space", "export_content/space", "create/page", "update/page"}
    assert client.delete(f"{OPS_PERMISSION}/{page}").status_code == 204
    assert {perm for who, perm in _legacy(site, "OPS") if who == marketing} == {
        "read/space", "export_content/space"}
    assert client.delete(f"{OPS_PERMISSION}/{read}").status_code == 204
    assert {perm for who, perm in _legacy(site, "OPS") if who == marketing} == set()
