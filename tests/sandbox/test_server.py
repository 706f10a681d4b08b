"""The loopback server: concurrent writers, keep-alive, and an internal error answered as a 500."""

from __future__ import annotations

import threading

import httpx
import pytest

from reconciler.sandbox import server as server_module
from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.server import RunningServer
from reconciler.sandbox.site import Site

pytestmark = pytest.mark.e2e


def test_concurrent_writers_all_land(sandbox_server: RunningServer, sandbox_admin: tuple[str, str]) -> None:
    site = sandbox_server.site
    viewer = site.state.role_by_name("Viewer")
    assert viewer is not None
    users = [u for u in site.state.users.values() if not u.guest][:24]
    errors: list[str] = []

    def assign(chunk: list[str]) -> None:
        with httpx.Client(base_url=sandbox_server.url, auth=sandbox_admin) as client:
            for account_id in chunk:
                body = [
                    {"principal": {"principalType": "USER", "principalId": account_id}, "roleId": viewer.id}
                ]
                response = client.post("/wiki/api/v2/spaces/1572865/role-assignments", json=body)
                if response.status_code != 200:
                    errors.append(response.text)

    chunks = [[u.account_id for u in users[i::6]] for i in range(6)]
    threads = [threading.Thread(target=assign, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    legal = site.state.space_by_key("LEGAL")
    assert legal is not None
    assert errors == []
    assert {("USER", u.account_id) for u in users} <= set(legal.assignments)
    assert site.counters == {"POST /wiki/api/v2/spaces/{id}/role-assignments": 24}


def test_a_sandbox_bug_is_a_500_not_a_dropped_connection(
    sandbox_server: RunningServer, sandbox_admin: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(site: Site, request: Request) -> Response:
        raise KeyError("boom")

    monkeypatch.setattr(server_module, "handle", broken)
    response = httpx.get(f"{sandbox_server.url}/wiki/api/v2/spaces", auth=sandbox_admin)
    assert response.status_code == 500
    assert response.json()["errors"][0]["detail"] == "sandbox internal error: KeyError: 'boom'"
