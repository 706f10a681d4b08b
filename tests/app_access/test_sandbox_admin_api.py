"""The sandbox's Admin API for data security policies, driven with plain httpx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox.server import start_server
from tests.app_access.sandbox_helpers import CLOUD, KEY, ORG, POLICIES, ari, body, client, make_site


def only_error(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1
    error: dict[str, Any] = errors[0]
    assert error.pop("id")
    return error


def test_create_then_get_returns_the_policy_with_applied_resources() -> None:
    with client(make_site()) as http:
        created = http.post(POLICIES, json=body("Confidential spaces", [1001, 1002]))
        assert created.status_code == 201
        policy_id = created.json()["data"]["id"]
        fetched = http.get(f"{POLICIES}/{policy_id}")
    assert fetched.status_code == 200
    assert fetched.json() == {"data": {"id": policy_id, "type": "policy", "attributes": {
        "name": "Confidential spaces", "type": "data-security", "status": "enabled",
        "policyCoverageLevel": "CONTAINER", "rule": {"appAccess": {"mode": "BLOCK_ALL"}},
        "resources": [{"id": ari(1001), "applicationStatus": "applied"},
                      {"id": ari(1002), "applicationStatus": "applied"}]}}}


def test_list_pages_with_a_cursor_in_meta_and_links() -> None:
    with client(make_site()) as http:
        for number in range(5):
            assert http.post(POLICIES, json=body(f"P{number}", [1001])).status_code == 201
        names, url, pages = [], f"{POLICIES}?limit=2", 0
        while url:
            page = http.get(url).json()
            pages += 1
            names += [p["attributes"]["name"] for p in page["data"]]
            assert page["meta"]["page_size"] == len(page["data"])
            url = page["links"].get("next", "")
            assert (page["meta"]["next"] is None) == (url == "")
    assert names == ["P0", "P1", "P2", "P3", "P4"]
    assert pages == 3


def test_update_replaces_rule_and_resources() -> None:
    with client(make_site()) as http:
        policy_id = http.post(POLICIES, json=body("R", [1001])).json()["data"]["id"]
        updated = http.put(f"{POLICIES}/{policy_id}", json=body("R (1/2)", [1002, 1003], mode="BLOCKLIST",
                                                                apps=["ai"]))
        assert updated.status_code == 200
        attributes = http.get(f"{POLICIES}/{policy_id}").json()["data"]["attributes"]
    assert attributes["name"] == "R (1/2)"
    assert attributes["rule"] == {"appAccess": {"mode": "BLOCKLIST", "apps": ["ai"]}}
    assert [r["id"] for r in attributes["resources"]] == [ari(1002), ari(1003)]


def test_delete_then_get_is_policy_not_found() -> None:
    with client(make_site()) as http:
        policy_id = http.post(POLICIES, json=body("R", [1001])).json()["data"]["id"]
        assert http.delete(f"{POLICIES}/{policy_id}").status_code == 204
        missing = http.get(f"{POLICIES}/{policy_id}")
    assert missing.status_code == 404
    assert only_error(missing) == {"status": "404", "code": "ADMIN-404-5", "title": "Not Found",
                                   "detail": f"Policy {policy_id} not found"}


@pytest.mark.parametrize(("key", "detail"), [
    (None, "The API key is missing or not valid for this organization"),
    ("wrong-key", "The API key is missing or not valid for this organization"),
], ids=["no key", "wrong key"])
def test_requests_without_the_org_api_key_are_401(key: str | None, detail: str) -> None:
    with client(make_site(), key=key) as http:
        response = http.get(POLICIES)
    assert response.status_code == 401
    assert only_error(response) == {"status": "401", "code": "ADMIN-401-1", "title": "Unauthorized",
                                    "detail": detail}


def test_sixteen_spaces_of_one_site_are_refused() -> None:
    with client(make_site()) as http:
        response = http.post(POLICIES, json=body("Big", list(range(1001, 1017))))
        listed = http.get(POLICIES).json()["data"]
    assert response.status_code == 400
    assert only_error(response) == {
        "status": "400", "code": "ADMIN-400-2", "title": "Bad Request",
        "detail": "A policy covers at most 15 spaces per product instance; got 16"}
    assert listed == []


def test_twenty_one_apps_are_refused() -> None:
    with client(make_site()) as http:
        response = http.post(POLICIES, json=body("Apps", [1001], mode="ALLOWLIST",
                                                 apps=[f"app{n}" for n in range(21)]))
    assert response.status_code == 400
    assert only_error(response)["detail"] == "An app access rule lists at most 20 apps; got 21"


def test_coverage_level_cannot_change_once_set() -> None:
    with client(make_site()) as http:
        policy_id = http.post(POLICIES, json=body("R", [1001])).json()["data"]["id"]
        response = http.put(f"{POLICIES}/{policy_id}", json=body("R", [1001], coverage="WORKSPACE"))
    assert response.status_code == 400
    assert only_error(response) == {"status": "400", "code": "ADMIN-400-4", "title": "Bad Request",
                                    "detail": "The coverage level of a policy cannot change once set "
                                              "(it is CONTAINER)"}


def test_a_blank_coverage_level_can_be_set_later() -> None:
    with client(make_site()) as http:
        policy_id = http.post(POLICIES, json=body("R", [1001], coverage="")).json()["data"]["id"]
        assert http.put(f"{POLICIES}/{policy_id}", json=body("R", [1001])).status_code == 200


def test_a_resource_that_is_not_a_space_of_the_site_is_refused() -> None:
    with client(make_site()) as http:
        unknown = http.post(POLICIES, json=body("R", [999]))
    assert unknown.status_code == 400
    assert only_error(unknown)["detail"] == (
        f"Resource ari:cloud:confluence:{CLOUD}:space/999 is not a space of a product instance of this "
        "organization")


def test_another_org_is_not_found() -> None:
    with client(make_site()) as http:
        response = http.get(POLICIES.replace(ORG, "other-org"))
    assert response.status_code == 404
    assert only_error(response)["code"] == "ADMIN-404-1"


def test_malformed_body_is_400() -> None:
    with client(make_site()) as http:
        response = http.post(POLICIES, content=b"{not json", headers={"Content-Type": "application/json"})
        wrong_type = http.post(POLICIES, json={"data": {"type": "space", "attributes": {}}})
    assert response.status_code == 400
    assert only_error(response)["code"] == "ADMIN-400-1"
    assert wrong_type.status_code == 400


def test_the_key_never_appears_in_responses() -> None:
    with client(make_site(), key="wrong-key") as http:
        response = http.get(POLICIES)
    assert KEY not in response.text
    assert "wrong-key" not in response.text


@pytest.mark.e2e
def test_the_loopback_server_serves_the_same_admin_api() -> None:
    site = make_site()
    server = start_server(site)
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as http:
            created = http.post(POLICIES, json=body("Over HTTP", [1001]))
            listed = http.get(POLICIES)
            refused = http.post(POLICIES, json=body("Big", list(range(1001, 1017))))
            tenant = http.get("/_edge/tenant_info")
    finally:
        server.stop()
    assert created.status_code == 201
    assert [p["attributes"]["name"] for p in listed.json()["data"]] == ["Over HTTP"]
    assert refused.status_code == 400
    assert only_error(refused)["code"] == "ADMIN-400-2"
    assert tenant.json() == {"cloudId": CLOUD}
