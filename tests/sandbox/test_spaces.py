"""v2 spaces: sorted by id, cursor pagination (``_links.next`` and ``Link``), filters, limit bounds."""

from __future__ import annotations

import re

import pytest

from reconciler.sandbox.site import Site
from tests.sandbox.doors import GINA, Door

ALL_KEYS = [
    "ENG",
    "OPS",
    "HR",
    "FIN",
    "LEGAL",
    "PUBLIC",
    "DOCS",
    "SALES",
    "MKT",
    "SANDBOX",
    "INTRANET",
    "~5b10ac8d82e05b22cc7d4ef5",
]


def test_pages_through_all_spaces_following_links_next(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    keys, pages, url = [], 0, "/wiki/api/v2/spaces?limit=5"
    while url:
        body = client.get(url).raise_for_status().json()
        keys += [s["key"] for s in body["results"]]
        pages += 1
        url = body["_links"].get("next")
    assert (keys, pages) == (ALL_KEYS, 3)


def test_pages_through_all_spaces_following_the_link_header(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    keys, ids, url = [], [], "/wiki/api/v2/spaces?limit=4"
    while url:
        response = client.get(url).raise_for_status()
        keys += [s["key"] for s in response.json()["results"]]
        ids += [int(s["id"]) for s in response.json()["results"]]
        found = re.search(r'<([^>]+)>; rel="next"', response.headers["Link"])
        url = found.group(1) if found else ""
    assert keys == ALL_KEYS
    assert ids == sorted(ids)


def test_last_page_has_no_next_and_a_base_link(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).get("/wiki/api/v2/spaces", params={"limit": 250})
    base = door.base_url(sandbox_site) + "/wiki"
    assert response.json()["_links"] == {"base": base}
    assert response.headers["Link"] == f'<{base}>; rel="base"'


def test_next_link_keeps_filters_and_limit(door: Door, sandbox_site: Site) -> None:
    body = (
        door.client(sandbox_site).get("/wiki/api/v2/spaces", params={"limit": 2, "status": "current"}).json()
    )
    assert body["_links"]["next"].startswith("/wiki/api/v2/spaces?limit=2&status=current&cursor=")


def test_default_page_size_is_25(door: Door) -> None:
    from reconciler.sandbox.seeds import seed_state

    site = Site(seed_state("synthetic:spaces=30,per_space=2,seed=1"))
    client = door.client(site, auth=("svc-reconciler@acme.example", "sandbox-admin-token"))
    body = client.get("/wiki/api/v2/spaces").json()
    assert len(body["results"]) == 25
    assert "next" in body["_links"]


def test_filters_by_keys_and_ids(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    by_keys = client.get("/wiki/api/v2/spaces", params={"keys": "HR,ENG,NOPE"}).json()["results"]
    assert [s["key"] for s in by_keys] == ["ENG", "HR"]
    ids = ",".join(s["id"] for s in by_keys)
    by_ids = client.get("/wiki/api/v2/spaces", params={"ids": ids}).json()["results"]
    assert [s["key"] for s in by_ids] == ["ENG", "HR"]
    repeated = client.get("/wiki/api/v2/spaces?keys=FIN&keys=OPS").json()["results"]
    assert [s["key"] for s in repeated] == ["OPS", "FIN"]


def test_space_item_has_the_documented_fields(door: Door, sandbox_site: Site) -> None:
    space = door.client(sandbox_site).get("/wiki/api/v2/spaces", params={"keys": "ENG"}).json()["results"][0]
    assert space == {
        "id": "1441793",
        "key": "ENG",
        "name": "Engineering",
        "type": "global",
        "status": "current",
        "authorId": "712020:5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "createdAt": "2024-01-15T09:00:00.000Z",
        "homepageId": "1441794",
        "_links": {"webui": "/spaces/ENG"},
    }


@pytest.mark.parametrize(("param", "value"), [("type", "bogus"), ("status", "deleted"), ("sort", "size")])
def test_values_outside_the_spec_enums_are_400(
    door: Door, sandbox_site: Site, param: str, value: str
) -> None:
    response = door.client(sandbox_site).get("/wiki/api/v2/spaces", params={param: value})
    assert response.status_code == 400


def test_filters_by_type_and_status(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    personal = client.get("/wiki/api/v2/spaces", params={"type": "personal"}).json()["results"]
    archived = client.get("/wiki/api/v2/spaces", params={"status": "archived"}).json()["results"]
    assert [s["key"] for s in personal] == ["~5b10ac8d82e05b22cc7d4ef5"]
    assert [s["key"] for s in archived] == ["INTRANET"]


@pytest.mark.parametrize("limit", ["0", "251", "ten", "-1"])
def test_out_of_range_limit_is_400_with_the_v2_envelope(door: Door, sandbox_site: Site, limit: str) -> None:
    response = door.client(sandbox_site).get("/wiki/api/v2/spaces", params={"limit": limit})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "status": 400,
                "code": "BAD_REQUEST",
                "title": "Bad Request",
                "detail": f"'limit' must be an integer between 1 and 250, got '{limit}'",
            }
        ]
    }


def test_garbage_cursor_is_400(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).get("/wiki/api/v2/spaces", params={"cursor": "!!!"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "Invalid cursor '!!!'"


def test_a_guest_sees_only_the_spaces_open_to_it(door: Door, sandbox_site: Site) -> None:
    keys = [
        s["key"] for s in door.client(sandbox_site, auth=GINA).get("/wiki/api/v2/spaces").json()["results"]
    ]
    assert keys == ["PUBLIC", "DOCS"]


def test_hidden_space_is_404_and_left_out_of_lists(door: Door, sandbox_site: Site) -> None:
    from reconciler.sandbox.faults import Knobs

    sandbox_site.configure(Knobs(hidden_spaces=frozenset({"FIN"})))
    client = door.client(sandbox_site)
    keys = [s["key"] for s in client.get("/wiki/api/v2/spaces", params={"limit": 250}).json()["results"]]
    assert "FIN" not in keys
    assert len(keys) == 11
    response = client.get("/wiki/api/v2/spaces/1540097/role-assignments")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NOT_FOUND"


def test_space_permissions_list_legacy_permissions_with_v1_ids(door: Door, sandbox_site: Site) -> None:
    body = door.client(sandbox_site).get("/wiki/api/v2/spaces/1474561/permissions").json()
    contractors = sandbox_site.state.group_by_name("contractors")
    assert contractors is not None
    assert body["results"] == [
        {
            "id": "100001",
            "principal": {"type": "group", "id": contractors.id},
            "operation": {"key": "read", "targetType": "space"},
        }
    ]


def test_catalogue_lists_documented_permission_ids(door: Door, sandbox_site: Site) -> None:
    body = door.client(sandbox_site).get("/wiki/api/v2/space-permissions", params={"limit": 250}).json()
    ids = [p["id"] for p in body["results"]]
    assert len(ids) == 14
    assert ids[0] == "read/space"
    assert body["results"][1] == {
        "id": "create/page",
        "displayName": "Add pages",
        "description": "Create pages in the space",
        "requiredPermissionIds": ["read/space"],
    }


def test_role_mode_is_reported(door: Door, sandbox_site: Site) -> None:
    assert door.client(sandbox_site).get("/wiki/api/v2/space-role-mode").json() == {
        "mode": "ROLES_TRANSITION"
    }
