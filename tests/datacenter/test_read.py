"""Reading a DC site through the sandbox: identity, version, spaces paging, permissions (REST, JSON-RPC)."""

from __future__ import annotations

import pytest

from reconciler.datacenter.checks import RouteMissingError, WebSudoError
from reconciler.datacenter.read import ANONYMOUS, AnonymousSessionError
from reconciler.errors import AuthError
from reconciler.model import Principal, PrincipalKind
from reconciler.sandbox.datacenter import DcSite
from reconciler.sandbox.datacenter.seeds import ADMIN, COLLABORATOR
from tests.datacenter.conftest import MakeReader

ALICE = Principal(PrincipalKind.USER, "alice")
ONCALL = Principal(PrincipalKind.GROUP, "ops/oncall")


def test_a_wrong_pat_is_refused_in_one_line(make_reader: MakeReader, site: DcSite) -> None:
    reader = make_reader({"CONFLUENCE_PAT": "expired-token"})
    with pytest.raises(AnonymousSessionError) as caught:
        reader.connect()
    assert str(caught.value) == (
        "refusing to run as anonymous: Confluence Data Center accepted the credentials without a user "
        "(a wrong or expired CONFLUENCE_PAT is not refused, CONFSERVER-98199); check CONFLUENCE_PAT (or "
        "CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD)")
    assert site.counters == {"GET /rest/api/user/current": 1}


def test_connect_names_the_actor_and_picks_rest_on_9_1_and_later(make_reader: MakeReader) -> None:
    found = make_reader({"CONFLUENCE_USERNAME": "svc-reconciler",
                         "CONFLUENCE_PASSWORD": "sandbox-dc-password"}).connect()
    assert (found.username, found.version, found.rest) == ("svc-reconciler", "9.2.5", True)


def test_before_9_1_the_tool_stops_unless_json_rpc_is_allowed(make_reader: MakeReader, site: DcSite) -> None:
    site.state.version = "8.9.3"
    with pytest.raises(RouteMissingError) as caught:
        make_reader().connect()
    assert str(caught.value) == (
        "GET /rest/api/server-information: 200: Confluence Data Center 8.9.3: the REST space-permission API "
        "is missing (Confluence Data Center before 9.1, or the route is disabled); set site.jsonrpc: allow "
        "in the policy to use the legacy JSON-RPC service instead")
    assert make_reader(allow_jsonrpc=True).connect().rest is False


def test_space_paging_stops_on_the_last_page_whatever_the_server_claims(
    make_reader: MakeReader, site: DcSite
) -> None:
    reader = make_reader(page_limit=3)
    keys = [s.key for s in reader.spaces()]
    assert keys == ["DOCS", "ENG", "FIN", "HR", "PUBLIC", "~alice"]
    assert site.counters == {"GET /rest/api/space": 3}  # the third page only repeats ~alice


def test_rest_access_names_users_by_username_and_includes_anonymous(
    make_reader: MakeReader, site: DcSite
) -> None:
    reader = make_reader()
    reader.connect()
    eng = reader.space_access("ENG")
    assert eng[ALICE] == frozenset(ADMIN)
    assert eng[ONCALL] == frozenset({"read/space"})
    assert eng[Principal(PrincipalKind.GROUP, "engineering")] == frozenset(COLLABORATOR)
    assert reader.space_access("PUBLIC")[ANONYMOUS] == frozenset({"read/space"})


def test_user_keys_are_resolved_once_per_run(make_reader: MakeReader, site: DcSite) -> None:
    reader = make_reader()
    reader.connect()
    site.reset_counters()
    reader.read_all(["DOCS", "ENG", "FIN", "HR", "PUBLIC", "~alice"])
    # two reads per space; alice and carol and dave once each (svc-reconciler is known from connect)
    assert site.counters == {
        "GET /rest/api/space/{spaceKey}/permissions": 6,
        "GET /rest/api/space/{spaceKey}/permissions/anonymous": 6,
        "GET /rest/api/user": 3,
    }


def test_json_rpc_reads_the_same_access_as_rest(make_reader: MakeReader, site: DcSite) -> None:
    rest = make_reader()
    rest.connect()
    by_rest = rest.read_all(["ENG", "PUBLIC", "~alice"])
    site.state.version = "8.9.3"
    rpc = make_reader(allow_jsonrpc=True)
    rpc.connect()
    site.reset_counters()
    assert rpc.read_all(["ENG", "PUBLIC", "~alice"]) == by_rest
    assert site.counters == {"POST /rpc/json-rpc/confluenceservice-v2": 3}


def test_a_missing_rest_route_falls_back_to_json_rpc_only_when_allowed(
    make_reader: MakeReader, site: DcSite
) -> None:
    reader = make_reader()
    reader.connect()
    site.state.version = "8.9.3"  # the version said 9.2.5, the route is gone
    with pytest.raises(RouteMissingError) as caught:
        reader.space_access("ENG")
    assert str(caught.value).startswith("GET /rest/api/space/ENG/permissions (space ENG): 404: the REST")
    allowed = make_reader(allow_jsonrpc=True)
    site.state.version = "9.2.5"
    allowed.connect()
    site.state.version = "8.9.3"
    assert allowed.space_access("ENG")[ALICE] == frozenset(ADMIN)
    assert allowed.uses_rest is False


def test_a_non_admin_caller_gets_the_500_explained_without_retries(
    make_reader: MakeReader, site: DcSite
) -> None:
    reader = make_reader({"CONFLUENCE_PAT": "sandbox-dc-pat-bob"})
    reader.connect()
    site.reset_counters()
    with pytest.raises(AuthError) as caught:
        reader.space_access("ENG")
    assert str(caught.value) == (
        "GET /rest/api/space/ENG/permissions (space ENG): 500: Internal Server Error; Data Center answers "
        "500 instead of 403 when the account is not an admin of the space (CONFSERVER-99908): make it a "
        "space admin there or a Confluence administrator")
    assert site.request_count == 1


def test_websudo_is_an_error_with_its_remedy(make_reader: MakeReader, site: DcSite) -> None:
    site.state.version = "8.9.3"
    site.state.websudo = True
    reader = make_reader(allow_jsonrpc=True)
    reader.connect()
    with pytest.raises(WebSudoError) as caught:
        reader.space_access("ENG")
    assert "turn off 'Secure administrator sessions'" in str(caught.value)
    assert str(caught.value).startswith("POST /rpc/json-rpc/confluenceservice-v2 (space ENG): 200: secure")


def test_remote_api_off_is_named(make_reader: MakeReader, site: DcSite) -> None:
    site.state.version = "8.9.3"
    site.state.remote_api_enabled = False
    reader = make_reader(allow_jsonrpc=True)
    reader.connect()
    with pytest.raises(RouteMissingError, match=r"turn on 'Remote API \(XML-RPC & SOAP\)'"):
        reader.space_access("ENG")


def test_concurrent_askers_of_one_user_key_share_one_lookup(make_reader: MakeReader, site: DcSite) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from reconciler.sandbox.datacenter.seeds import user_key

    reader = make_reader()
    keys = [user_key(name) for name in ("alice", "bob", "carol")] * 20
    with ThreadPoolExecutor(max_workers=8) as pool:
        names = list(pool.map(reader.username_for, keys))
    assert names == ["alice", "bob", "carol"] * 20
    assert site.counters == {"GET /rest/api/user": 3}
