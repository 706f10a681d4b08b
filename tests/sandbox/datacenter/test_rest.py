"""The DC REST surface: context path, HTML 404s, authentication quirks, spaces paging, server information."""

from __future__ import annotations

from reconciler.sandbox.datacenter import DcSite
from reconciler.sandbox.datacenter.seeds import user_key
from tests.sandbox.datacenter.conftest import PAT, Client


def test_routes_live_under_the_context_path_and_others_are_html_404s(client: Client) -> None:
    http = client()
    assert http.get("/confluence/rest/api/space").status_code == 200
    outside = http.get("/rest/api/space")
    assert (outside.status_code, outside.headers["content-type"]) == (404, "text/html;charset=UTF-8")
    cloud_style = http.get("/confluence/wiki/api/v2/spaces")
    assert cloud_style.status_code == 404
    assert cloud_style.text.startswith("<!DOCTYPE html>")


def test_the_cloud_singular_permission_path_is_a_non_json_404(client: Client) -> None:
    response = client().get("/confluence/rest/api/space/ENG/permission")
    assert response.status_code == 404
    assert "json" not in response.headers["content-type"]


def test_a_wrong_method_on_a_route_is_an_html_405(client: Client) -> None:
    response = client().delete("/confluence/rest/api/space/ENG/permissions")
    assert (response.status_code, response.headers["content-type"]) == (405, "text/html;charset=UTF-8")


def test_a_wrong_pat_runs_as_anonymous_instead_of_failing(client: Client) -> None:
    response = client(token="not-a-token").get("/confluence/rest/api/user/current")
    assert response.status_code == 200
    assert response.json() == {"type": "anonymous", "displayName": "Anonymous", "_links": {}}


def test_the_right_pat_and_basic_auth_are_the_same_user(client: Client) -> None:
    by_pat = client().get("/confluence/rest/api/user/current").json()
    by_basic = client(basic=("svc-reconciler", "sandbox-dc-password")).get(
        "/confluence/rest/api/user/current").json()
    assert by_pat == by_basic
    assert by_pat["username"] == "svc-reconciler"
    assert by_pat["userKey"] == user_key("svc-reconciler")


def test_a_wrong_password_is_401_with_the_dc_envelope(client: Client) -> None:
    response = client(basic=("svc-reconciler", "nope")).get("/confluence/rest/api/user/current")
    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "data": {"authorized": False, "valid": True, "errors": [], "successful": False},
        "message": "Authentication failed", "reason": "Unauthorized",
    }


def test_server_information_reports_version_and_base(client: Client, site: DcSite) -> None:
    site.state.version = "8.9.3"
    body = client().get("/confluence/rest/api/server-information").json()
    assert body["version"] == "8.9.3"
    assert body["baseUrl"].endswith("/confluence")
    assert set(body) == {"baseUrl", "version", "buildNumber", "marketplaceBuildNumber", "buildDate"}
    assert client(token="wrong").get("/confluence/rest/api/server-information").status_code == 401


def test_space_paging_repeats_the_last_record_past_the_end(client: Client) -> None:
    http = client()
    first = http.get("/confluence/rest/api/space", params={"limit": 3}).json()
    assert [s["key"] for s in first["results"]] == ["DOCS", "ENG", "FIN"]
    assert first["_links"]["next"] == "/rest/api/space?start=3&limit=3"
    second = http.get("/confluence/rest/api/space", params={"start": 3, "limit": 3}).json()
    assert [s["key"] for s in second["results"]] == ["HR", "PUBLIC", "~alice"]
    assert "next" in second["_links"]  # a full last page still claims a next page
    past = http.get("/confluence/rest/api/space", params={"start": 6, "limit": 3}).json()
    assert [s["key"] for s in past["results"]] == ["~alice"]  # CS-95312: data past the end
    assert past["size"] == 1
    assert "next" not in past["_links"]


def test_space_limit_is_clamped_and_the_answer_says_so(client: Client) -> None:
    page = client().get("/confluence/rest/api/space", params={"limit": 100000}).json()
    assert page["limit"] == 500


def test_anonymous_sees_only_spaces_open_to_anonymous(client: Client) -> None:
    page = client(token=None).get("/confluence/rest/api/space").json()
    assert [s["key"] for s in page["results"]] == ["PUBLIC"]


def test_users_resolve_by_key_and_by_username(client: Client) -> None:
    http = client()
    by_name = http.get("/confluence/rest/api/user", params={"username": "alice"}).json()
    assert by_name["userKey"] == user_key("alice")
    by_key = http.get("/confluence/rest/api/user", params={"key": user_key("alice")}).json()
    assert by_key["username"] == "alice"
    missing = http.get("/confluence/rest/api/user", params={"username": "nobody"})
    assert missing.status_code == 404
    assert missing.json()["statusCode"] == 404


def test_a_group_name_with_a_slash_cannot_be_addressed_in_a_path(client: Client) -> None:
    http = client()
    assert http.get("/confluence/rest/api/group/engineering").status_code == 200
    for form in ("ops/oncall", "ops%2Foncall"):
        response = http.get(f"/confluence/rest/api/group/{form}")
        assert response.status_code == 404
        assert "json" not in response.headers["content-type"]
    names = [g["name"] for g in http.get("/confluence/rest/api/group").json()["results"]]
    assert "ops/oncall" in names


def test_requests_are_recorded_in_order_with_templates(client: Client, site: DcSite) -> None:
    http = client()
    http.get("/confluence/rest/api/space/ENG/permissions")
    http.get("/rest/api/space")
    assert site.requests == [
        ("GET", "/confluence/rest/api/space/ENG/permissions"), ("GET", "/rest/api/space")]
    assert site.counters == {"GET /rest/api/space/{spaceKey}/permissions": 1, "GET <unknown>": 1}
    assert PAT not in str(site.requests)
