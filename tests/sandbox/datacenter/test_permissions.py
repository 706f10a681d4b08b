"""The 9.1 REST space-permission API of the DC sandbox: reads, the declarative POST, grant/revoke, rules."""

from __future__ import annotations

import pytest

from reconciler.sandbox.datacenter import DcSite
from reconciler.sandbox.datacenter.seeds import user_key
from tests.sandbox.datacenter.conftest import BOB_PAT, Client, op

ENG = "/confluence/rest/api/space/ENG/permissions"


def subjects(site: DcSite, space: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for s, subject, held in site.state.permissions:
        if s == space:
            found.setdefault(subject, set()).add(held)
    return found


def test_get_all_lists_users_by_key_and_groups_by_name_without_anonymous(client: Client) -> None:
    rows = client().get("/confluence/rest/api/space/PUBLIC/permissions").json()
    assert {"operation": {"targetType": "space", "operationKey": "read"},
            "subject": {"type": "group", "name": "confluence-users"},
            "spaceKey": "PUBLIC", "spaceId": 98309} in rows
    assert {"type": "user", "userKey": user_key("svc-reconciler")} in [r["subject"] for r in rows]
    assert all(r["subject"]["type"] != "anonymous" for r in rows)


def test_anonymous_permissions_come_flat_or_nested(client: Client, site: DcSite) -> None:
    http = client()
    flat = http.get("/confluence/rest/api/space/PUBLIC/permissions/anonymous").json()
    assert flat == [{"operation": {"targetType": "space", "operationKey": "read"}, "spaceKey": "PUBLIC"}]
    site.knobs.anonymous_shape = "nested"
    nested = http.get("/confluence/rest/api/space/PUBLIC/permissions/anonymous").json()
    assert nested == {"operations": [{"targetType": "space", "operationKey": "read"}]}


def test_a_caller_who_is_not_space_admin_gets_500_not_403(client: Client, site: DcSite) -> None:
    response = client(token=BOB_PAT).get(ENG)
    assert response.status_code == 500
    assert response.json()["statusCode"] == 500
    site.knobs.non_admin_status = 403
    assert client(token=BOB_PAT).get(ENG).status_code == 403


def test_post_is_declarative_per_subject_and_leaves_others_alone(client: Client, site: DcSite) -> None:
    before = subjects(site, "ENG")
    body = [{"groupName": "engineering", "operations": [op("read/space")]},
            {"userKey": user_key("bob"), "operations": [op("read/space"), op("create/page")]}]
    response = client().post(ENG, json=body)
    assert (response.status_code, response.content) == (200, b"")
    after = subjects(site, "ENG")
    assert after["group:engineering"] == {"read/space"}
    assert after[f"user:{user_key('bob')}"] == {"read/space", "create/page"}
    assert after[f"user:{user_key('alice')}"] == before[f"user:{user_key('alice')}"]


def test_post_with_an_empty_list_removes_the_subject(client: Client, site: DcSite) -> None:
    client().post(ENG, json=[{"groupName": "ops/oncall", "operations": []}])
    assert "group:ops/oncall" not in subjects(site, "ENG")


def test_post_with_neither_key_nor_name_is_anonymous(client: Client, site: DcSite) -> None:
    client().post(ENG, json=[{"operations": [op("read/space")]}])
    assert subjects(site, "ENG")["anonymous"] == {"read/space"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ([{"groupName": f"g{i}", "operations": []} for i in range(41)], 400,
         "Maximum 40 different users/groups/anonymous user could be passed in the request"),
        ([{"groupName": "nobody", "operations": []}], 404, "user or group with specified key not found"),
        ([{"groupName": "hr", "operations": [op("archive/page")]}], 400,
         "Operation archive/page is not a valid space permission"),
        ([{"operations": [op("read/space"), op("administer/space")]}], 400,
         "Space administration permission cannot be granted to anonymous users"),
        ([{"groupName": "hr", "operations": [op("create/page")]}], 400,
         "'read space' permission is required with any other space permission"),
    ],
)
def test_post_rejects_and_changes_nothing(
    client: Client, site: DcSite, body: list[object], status: int, message: str
) -> None:
    body = [{"groupName": "engineering", "operations": []}, *body]
    before = set(site.state.permissions)
    response = client().post(ENG, json=body)
    assert (response.status_code, response.json()["message"]) == (status, message)
    assert site.state.permissions == before


def test_grant_adds_and_revoke_removes_silently(client: Client, site: DcSite) -> None:
    http = client()
    key = user_key("erin")
    assert http.put(f"{ENG}/user/{key}/grant", json=[op("read/space"), op("create/page")]).status_code == 204
    revoked = http.put(f"{ENG}/user/{key}/revoke", json=[op("create/page"), op("delete/page")])
    assert revoked.status_code == 204
    assert subjects(site, "ENG")[f"user:{key}"] == {"read/space"}
    assert http.put(f"{ENG}/anonymous/grant", json=[op("read/space")]).status_code == 204
    assert http.get(f"{ENG}/anonymous").json()[0]["operation"]["operationKey"] == "read"


def test_the_last_admin_can_be_removed_unless_the_knob_protects_it(client: Client, site: DcSite) -> None:
    http = client()
    only_admin = [{"userKey": user_key("alice"), "operations": [op("read/space")]}]
    assert http.post("/confluence/rest/api/space/~alice/permissions", json=only_admin).status_code == 200
    site.knobs.protect_last_admin = True
    response = http.post(ENG, json=[{"userKey": user_key("alice"), "operations": []},
                                    {"userKey": user_key("svc-reconciler"), "operations": []}])
    assert response.status_code == 400


def test_before_91_the_permission_routes_do_not_exist(client: Client, site: DcSite) -> None:
    site.state.version = "8.9.3"
    response = client().get(ENG)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert client().get("/confluence/rest/api/space").status_code == 200
