"""Authentication (Basic, Bearer through the gateway, 401) and the gateway prefix."""

from __future__ import annotations

import pytest

from reconciler.sandbox.site import Site
from tests.sandbox.doors import ADMIN, Door

CLOUD = "5e1f0c7a-d3b2-4c1e-9a8f-0b1c2d3e4f50"
UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}


@pytest.mark.parametrize(
    "path", ["/wiki/api/v2/spaces", "/wiki/rest/api/group", "/wiki/rest/api/nothing-here"]
)
def test_no_credentials_is_401(door: Door, sandbox_site: Site, path: str) -> None:
    response = door.client(sandbox_site, auth=None).get(path)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_wrong_token_is_401(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site, auth=(ADMIN[0], "wrong")).get("/wiki/api/v2/spaces")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_bearer_token_on_the_site_url_is_401(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site, auth=None, headers={"Authorization": f"Bearer {ADMIN[1]}"})
    assert client.get("/wiki/api/v2/spaces").status_code == 401


def test_bearer_token_through_the_gateway_works(door: Door, sandbox_site: Site) -> None:
    client = door.client(
        sandbox_site,
        auth=None,
        prefix=f"/ex/confluence/{CLOUD}",
        headers={"Authorization": f"Bearer {ADMIN[1]}"},
    )
    body = client.get("/wiki/api/v2/spaces", params={"limit": 10}).json()
    assert body["_links"]["base"] == f"{door.base_url(sandbox_site)}/ex/confluence/{CLOUD}/wiki"
    second = client.get(body["_links"]["next"]).json()  # the relative next link, under the gateway base
    assert [s["key"] for s in second["results"]] == ["INTRANET", "~5b10ac8d82e05b22cc7d4ef5"]


def test_basic_auth_through_the_gateway_works(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site, prefix=f"/ex/confluence/{CLOUD}")
    assert client.get("/wiki/api/v2/space-role-mode").json() == {"mode": "ROLES_TRANSITION"}


def test_unknown_cloud_id_is_404(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site, prefix="/ex/confluence/00000000-0000-0000-0000-000000000000")
    response = client.get("/wiki/api/v2/spaces")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == "No Confluence site with this cloud id"


def test_unknown_path_is_404_in_the_envelope_of_its_api(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    v2 = client.get("/wiki/api/v2/nothing")
    v1 = client.get("/wiki/rest/api/nothing")
    assert (v2.status_code, v2.json()["errors"][0]["detail"]) == (404, "No API at GET /wiki/api/v2/nothing")
    assert (v1.status_code, v1.json()["message"]) == (404, "No API at GET /wiki/rest/api/nothing")


def test_wrong_method_on_a_known_path_is_405(door: Door, sandbox_site: Site) -> None:
    response = door.client(sandbox_site).put("/wiki/api/v2/spaces/1441793/role-assignments", json=[])
    assert (response.status_code, response.headers["Allow"]) == (405, "GET, POST")
    assert response.json()["errors"][0] == {
        "status": 405,
        "code": "METHOD_NOT_ALLOWED",
        "title": "Method Not Allowed",
        "detail": "PUT is not allowed here",
    }
