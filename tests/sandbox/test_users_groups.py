"""v1 groups (by name, by id, list with offset paging) and users (v1 and v2 bulk)."""

from __future__ import annotations

from reconciler.sandbox.site import Site
from tests.sandbox.doors import Door

ALICE, BOB = "5b10ac8d82e05b22cc7d4ef5", "5b10ac8d82e05b22cc7d4ef6"


def test_group_by_name_and_by_id(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    group = client.get("/wiki/rest/api/group/by-name", params={"name": "eng-leads"}).json()
    base = door.base_url(sandbox_site) + "/wiki"
    assert group == {
        "type": "group",
        "name": "eng-leads",
        "id": group["id"],
        "_links": {"self": f"{base}/rest/api/group/by-id?id={group['id']}"},
    }
    assert client.get("/wiki/rest/api/group/by-id", params={"id": group["id"]}).json() == group


def test_unknown_group_is_404_in_the_v1_envelope(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).get("/wiki/rest/api/group/by-name", params={"name": "nobody"})
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "data": {
            "authorized": True,
            "valid": True,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": "Group with name 'nobody' does not exist",
        "reason": "Not Found",
    }


def test_group_list_pages_by_offset_in_name_order(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    names, url = [], "/wiki/rest/api/group?limit=4"
    while url:
        body = client.get(url).json()
        names += [g["name"] for g in body["results"]]
        assert body["size"] == len(body["results"])
        url = "/wiki" + body["_links"]["next"] if "next" in body["_links"] else ""
    assert names == sorted(names)
    assert len(names) == 10
    first = client.get("/wiki/rest/api/group", params={"limit": 4}).json()
    assert (first["start"], first["limit"], first["_links"]["next"]) == (
        0,
        4,
        "/rest/api/group?start=4&limit=4",
    )


def test_group_members(door: Door, sandbox_site: Site) -> None:
    body = door.client(sandbox_site).get("/wiki/rest/api/group/member", params={"name": "eng-leads"}).json()
    assert [u["accountId"] for u in body["results"]] == [ALICE, "5b10ac8d82e05b22cc7d4ef7"]


def test_user_and_user_bulk_v1(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    alice = client.get("/wiki/rest/api/user", params={"accountId": ALICE}).json()
    assert (alice["displayName"], alice["isExternalCollaborator"]) == ("Alice Anders", False)
    bulk = client.get(f"/wiki/rest/api/user/bulk?accountId={ALICE},{BOB}&accountId=unknown").json()
    assert [u["accountId"] for u in bulk["results"]] == [ALICE, BOB]
    assert client.get("/wiki/rest/api/user", params={"accountId": "nobody"}).status_code == 404


def test_users_bulk_v2(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    body = client.post(
        "/wiki/api/v2/users-bulk", json={"accountIds": ["5b10a2844c20165700ede21a", "x"]}
    ).json()
    assert [(u["displayName"], u["isExternalCollaborator"]) for u in body["results"]] == [
        ("Gina Gast (guest)", True)
    ]
    alice = client.post("/wiki/api/v2/users-bulk", json={"accountIds": [ALICE]}).json()["results"][0]
    assert alice["personalSpaceId"] == "1802241"
    empty = client.post("/wiki/api/v2/users-bulk", json={"accountIds": []})
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["detail"] == "'accountIds' must be an array of 1 to 250 account ids"
