"""The group membership read: real httpx against the sandbox (in-process and over loopback HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.members import GroupMembersError, fetch_group_members
from reconciler.errors import ApiError
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.server import start_server
from reconciler.sandbox.site import Site
from reconciler.sandbox.state import Group, User
from reconciler.sandbox.transport import SandboxTransport

TEMPLATE = "GET /wiki/rest/api/group/{groupId}/membersByGroupId"


@pytest.fixture(params=["transport", "server"])
def client_on(request: pytest.FixtureRequest) -> Iterator[tuple[Site, ConfluenceClient]]:
    site = Site(seed_state("demo"))
    auth = httpx.BasicAuth(ADMIN_EMAIL, admin_token("demo"))
    if request.param == "transport":
        with ConfluenceClient("https://acme.atlassian.net", auth=auth, transport=SandboxTransport(site),
                              read_only=True) as client:
            yield site, client
        return
    server = start_server(site, "127.0.0.1", 0)
    try:
        with ConfluenceClient(server.url, auth=auth, read_only=True) as client:
            yield site, client
    finally:
        server.stop()


def _ids(site: Site, *names: str) -> dict[str, str]:
    out = {}
    for name in names:
        group = site.state.group_by_name(name)
        assert group is not None
        out[name] = group.id
    return out


def test_members_are_read_with_the_sites_guest_flag(client_on: tuple[Site, ConfluenceClient]) -> None:
    site, client = client_on
    members = fetch_group_members(client, _ids(site, "contractors", "auditors"))
    contractors = members["contractors"]
    assert [(m.display_name, m.guest) for m in contractors.members] == [
        ("Victor Vogel (guest)", True), ("Mallory", False), ("Quinn", False),
    ]  # sorted by account id
    assert members["auditors"].members == ()
    assert not members["auditors"].missing


def test_each_group_is_read_once_in_pages_of_200(client_on: tuple[Site, ConfluenceClient]) -> None:
    site, client = client_on
    with site.writing() as state:
        for n in range(450):
            account = f"bulk-{n:04d}"
            state.users[account] = User(account, f"Bulk {n}", f"bulk{n}@acme.example")
        state.groups["big"] = Group("big", "big", [f"bulk-{n:04d}" for n in range(450)])
        state.reindex()
    before = site.counters.get(TEMPLATE, 0)
    members = fetch_group_members(client, {**_ids(site, "eng-leads", "hr"), "big": "big"})
    assert len(members["big"].members) == 450
    assert site.counters.get(TEMPLATE, 0) - before == 3 + 1 + 1  # 450 = 200 + 200 + 50; one page each


def test_an_unknown_group_id_comes_back_missing_not_empty(client_on: tuple[Site, ConfluenceClient]) -> None:
    _site, client = client_on
    result = fetch_group_members(client, {"gone": "0000-no-such-group"})
    assert result["gone"].missing
    assert result["gone"].members == ()


def test_a_failed_page_fails_the_whole_read_naming_the_group() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("start", "0") == "0":
            return httpx.Response(200, json={"results": [{"type": "known", "accountId": "a1"}], "start": 0,
                                             "limit": 1, "size": 1, "_links": {"next": "/rest/api/x"}})
        return httpx.Response(403, json={"statusCode": 403, "message": "no"})

    with ConfluenceClient("https://acme.atlassian.net", transport=httpx.MockTransport(answer),
                          read_only=True) as client, pytest.raises(GroupMembersError) as caught:
        fetch_group_members(client, {"eng-leads": "g1"})
    assert isinstance(caught.value, ApiError)
    assert str(caught.value) == (
        "GET /wiki/rest/api/group/g1/membersByGroupId (group eng-leads): 403: Forbidden: no; "
        "group members are read all or nothing, so there is no review"
    )


def test_the_sandbox_refuses_a_limit_above_200_and_counts_on_request(sandbox_site: Site) -> None:
    group = sandbox_site.state.group_by_name("engineering")
    assert group is not None
    with httpx.Client(base_url="https://acme.atlassian.net", transport=SandboxTransport(sandbox_site),
                      auth=(ADMIN_EMAIL, admin_token("demo"))) as http:
        path = f"/wiki/rest/api/group/{group.id}/membersByGroupId"
        assert http.get(path, params={"limit": 201}).status_code == 400
        page = http.get(path, params={"limit": 4, "shouldReturnTotalSize": "true"}).json()
    assert (page["size"], page["totalSize"], page["limit"]) == (4, len(group.members), 4)
    assert page["_links"]["next"].endswith("start=4&limit=4")
    assert {"accountId", "displayName", "isGuest"} <= set(page["results"][0])
