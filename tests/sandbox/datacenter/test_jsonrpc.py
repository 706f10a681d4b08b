"""The DC sandbox's JSON-RPC service: names, usernames, the Remote API toggle, XSRF and WebSudo."""

from __future__ import annotations

from reconciler.sandbox.datacenter import DcSite
from reconciler.sandbox.datacenter.seeds import user_key
from tests.sandbox.datacenter.conftest import BOB_PAT, RPC, Client, rpc

NO_CHECK = {"X-Atlassian-Token": "no-check"}


def test_get_space_permission_sets_names_users_by_username(client: Client, site: DcSite) -> None:
    site.state.version = "8.5.0"
    body = client().post(RPC, json=rpc("getSpacePermissionSets", "PUBLIC"), headers=NO_CHECK).json()
    sets = {s["type"]: s["spacePermissions"] for s in body["result"]}
    assert len(sets) == 14
    assert {"type": "VIEWSPACE", "userName": None, "groupName": None} in sets["VIEWSPACE"]
    assert {"type": "SETSPACEPERMISSIONS", "userName": "svc-reconciler", "groupName": None} in sets[
        "SETSPACEPERMISSIONS"]


def test_add_and_remove_by_name_including_slash_groups(client: Client, site: DcSite) -> None:
    http = client()
    added = http.post(RPC, json=rpc("addPermissionsToSpace", ["VIEWSPACE", "COMMENT"], "ops/oncall", "FIN"),
                      headers=NO_CHECK).json()
    assert added == {"jsonrpc": "2.0", "id": 7, "result": True}
    http.post(RPC, json=rpc("removePermissionFromSpace", "COMMENT", "ops/oncall", "FIN"), headers=NO_CHECK)
    http.post(RPC, json=rpc("addAnonymousPermissionToSpace", "VIEWSPACE", "FIN"), headers=NO_CHECK)
    http.post(RPC, json=rpc("addPermissionToSpace", "EDITSPACE", "erin", "FIN"), headers=NO_CHECK)
    held = {(s, o) for (k, s, o) in site.state.permissions if k == "FIN"}
    assert ("group:ops/oncall", "read/space") in held
    assert ("group:ops/oncall", "create/comment") not in held
    assert ("anonymous", "read/space") in held
    assert (f"user:{user_key('erin')}", "create/page") in held


def test_errors_are_http_200_with_an_error_member(client: Client) -> None:
    body = client(token=BOB_PAT).post(RPC, json=rpc("getSpacePermissionSets", "ENG"), headers=NO_CHECK).json()
    assert "NotPermittedException" in body["error"]["message"]
    unknown = client().post(RPC, json=rpc("addPermissionToSpace", "VIEWSPACE", "ghost", "ENG"),
                            headers=NO_CHECK).json()
    assert "No user or group with the name: ghost" in unknown["error"]["message"]


def test_without_the_xsrf_header_the_call_is_refused(client: Client) -> None:
    response = client().post(RPC, json=rpc("getSpacePermissionSets", "ENG"))
    assert (response.status_code, response.text) == (403, "XSRF check failed")


def test_remote_api_off_is_an_html_404(client: Client, site: DcSite) -> None:
    site.state.remote_api_enabled = False
    response = client().post(RPC, json=rpc("getSpacePermissionSets", "ENG"), headers=NO_CHECK)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_websudo_answers_200_with_the_html_login_page(client: Client, site: DcSite) -> None:
    site.state.websudo = True
    response = client().post(RPC, json=rpc("getSpacePermissionSets", "ENG"), headers=NO_CHECK)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Secure administrator sessions" in response.text
