"""The loopback server: concurrent writers, keep-alive, and an internal error answered as a 500."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from reconciler.errors import UsageError
from reconciler.sandbox import server as server_module
from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.server import RunningServer, start_server
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


def test_the_request_log_has_a_line_per_api_request_with_its_arrival_answer_and_status(
    tmp_path: Path, sandbox_admin: tuple[str, str]
) -> None:
    """``sandbox serve --request-log``: what the benchmark's slot accounting reads; the control endpoints
    are not API requests, and a query (account ids, cursors) is not kept."""
    log = tmp_path / "requests.log"
    running = start_server(Site(seed_state("demo")), request_log=log)
    try:
        before = time.time()
        with httpx.Client(base_url=running.url, auth=sandbox_admin) as client:
            assert client.get("/wiki/api/v2/spaces", params={"limit": 1}).status_code == 200
            assert client.get("/wiki/api/v2/spaces/999/role-assignments").status_code == 404
            assert client.get("/_sandbox/counters").status_code == 200
        after = time.time()
    finally:
        running.stop()
    lines = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    assert [parts[2:] for parts in lines] == [
        ["GET", "/wiki/api/v2/spaces", "200"],
        ["GET", "/wiki/api/v2/spaces/999/role-assignments", "404"],
    ]
    for parts in lines:
        assert before <= float(parts[0]) <= float(parts[1]) <= after


def test_a_request_arrives_when_its_request_line_is_read_not_once_its_headers_are(tmp_path: Path) -> None:
    """The latency (``faults.answer_time``) and the request log count from the request line: parsing the
    headers is inside the latency a client observes, as on a real site (docs/sandbox.md, "One request")."""
    seen: list[float | None] = []

    def record(site: Site, request: Request) -> Response:
        seen.append(request.arrived)
        return Response(200, b"{}")

    log = tmp_path / "requests.log"
    running = start_server(Site(seed_state("demo")), handler=record, request_log=log)
    try:
        with socket.create_connection(("127.0.0.1", running.port)) as conn:
            line_sent = time.monotonic()
            conn.sendall(b"GET /wiki/api/v2/spaces HTTP/1.1\r\n")
            time.sleep(0.5)  # the headers come much later (a slow client, or a busy server parsing them)
            headers_sent, headers_sent_wall = time.monotonic(), time.time()
            conn.sendall(b"Host: sandbox\r\nConnection: close\r\n\r\n")
            assert conn.recv(1024).startswith(b"HTTP/1.1 200")
        # the log's line is written once the answer is out: wait for it before the server (and log) close
        deadline = time.monotonic() + 10
        while not log.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        running.stop()
    assert len(seen) == 1
    assert seen[0] is not None
    assert line_sent <= seen[0] < headers_sent
    assert float(log.read_text(encoding="utf-8").split()[0]) < headers_sent_wall


def test_an_answer_goes_out_when_it_is_due_its_head_formatted_before_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The latency is waited for once the answer is ready: formatting its status line and headers is
    inside it, not after it (docs/sandbox.md, "One request")."""
    due = [0.0]
    at_wait: list[tuple[float | None, bytes]] = []
    wait = server_module.wait_until

    def answer(site: Site, request: Request) -> Response:
        due[0] = time.monotonic() + 0.3
        return Response(200, b"{}", {"Content-Type": "application/json"}, not_before=due[0])

    def recording_wait(when: float | None) -> None:
        handler = next(h for h in handlers if h.command == "GET")
        at_wait.append((when, b"".join(handler._headers_buffer)))
        wait(when)

    handlers: list[server_module._Handler] = []
    init = server_module._Handler.parse_request

    def tracked(self: server_module._Handler) -> bool:
        handlers.append(self)
        return init(self)

    monkeypatch.setattr(server_module._Handler, "parse_request", tracked)
    monkeypatch.setattr(server_module, "wait_until", recording_wait)
    running = start_server(Site(seed_state("demo")), handler=answer)
    try:
        response = httpx.get(f"{running.url}/wiki/api/v2/spaces")
        received = time.monotonic()
    finally:
        running.stop()
    assert response.status_code == 200
    assert received >= due[0]
    [(when, head)] = at_wait
    assert when == due[0]
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/json\r\nContent-Length: 2\r\n" in head


def test_a_request_log_that_cannot_be_opened_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        start_server(Site(seed_state("demo")), request_log=tmp_path / "no-such-dir" / "requests.log")
    assert str(exc.value) == (f"--request-log {tmp_path / 'no-such-dir' / 'requests.log'}: cannot open it: "
                              "No such file or directory")
