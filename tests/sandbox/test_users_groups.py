"""v1 groups (by id, members by id, list with offset paging) and users (v1 and v2 bulk, current)."""

from __future__ import annotations

from reconciler.sandbox.site import Site
from tests.sandbox.doors import Door

ALICE, BOB = "5b10ac8d82e05b22cc7d4ef5", "5b10ac8d82e05b22cc7d4ef6"


def _group_id(site: Site, name: str) -> str:
    group = site.state.group_by_name(name)
    assert group is not None
    return group.id


def test_group_by_id(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    eng_leads = _group_id(sandbox_site, "eng-leads")
    group = client.get("/wiki/rest/api/group/by-id", params={"id": eng_leads}).json()
    base = door.base_url(sandbox_site) + "/wiki"
    assert group == {
        "type": "group",
        "name": "eng-leads",
        "id": group["id"],
        "_links": {"self": f"{base}/rest/api/group/by-id?id={group['id']}"},
    }


def test_group_by_name_is_gone_as_in_the_2025_spec(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).get("/wiki/rest/api/group/by-name", params={"name": "eng-leads"})
    assert response.status_code == 404


def test_unknown_group_is_404_in_the_v1_envelope(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).get("/wiki/rest/api/group/by-id", params={"id": "nobody"})
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
        "message": "Group with id 'nobody' does not exist",
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
    assert len(names) == 11
    first = client.get("/wiki/rest/api/group", params={"limit": 4}).json()
    assert (first["start"], first["limit"], first["_links"]["next"]) == (
        0,
        4,
        "/rest/api/group?start=4&limit=4",
    )


def test_group_members(door: Door, sandbox_site: Site) -> None:
    group_id = _group_id(sandbox_site, "eng-leads")
    body = door.client(sandbox_site).get(f"/wiki/rest/api/group/{group_id}/membersByGroupId").json()
    assert [u["accountId"] for u in body["results"]] == [ALICE, "5b10ac8d82e05b22cc7d4ef7"]


def test_user_and_user_bulk_v1(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    alice = client.get("/wiki/rest/api/user", params={"accountId": ALICE}).json()
    assert (alice["displayName"], alice["isGuest"], alice["isExternalCollaborator"]) == (
        "Alice Anders", False, False)
    gina = client.get("/wiki/rest/api/user", params={"accountId": "5b10a2844c20165700ede21a"}).json()
    assert (gina["isGuest"], gina["isExternalCollaborator"], gina["accountType"]) == (True, True, "atlassian")
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


def test_user_current_is_the_caller(door: Door, sandbox_site: Site) -> None:
    me = door.client(sandbox_site).get("/wiki/rest/api/user/current").json()
    assert (me["accountId"], me["displayName"], me["isGuest"]) == (
        "712020:5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "Reconciler Service", False)


def test_user_bulk_answers_at_most_100_and_ignores_limit(door: Door, sandbox_site: Site) -> None:
    ids = list(sandbox_site.state.users) * 5  # 150 with repeats
    body = door.client(sandbox_site).get(
        "/wiki/rest/api/user/bulk", params={"accountId": ",".join(ids), "limit": "5"}
    ).json()
    assert (len(body["results"]), body["size"]) == (100, 100)
