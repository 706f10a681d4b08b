"""A broken credential stops the run before any request, and no form of a secret reaches a message."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler import cli
from reconciler.confluence.errordetail import redact
from reconciler.errors import ApiError
from tests.kit.sites import site_client as open_client

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def listener() -> Iterator[tuple[str, list[int]]]:
    """A local port that counts the connections made to it (and closes them unanswered)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    server.close()
    thread.join(timeout=5)


def test_a_bearer_token_with_a_pasted_newline_fails_in_one_line_before_any_request(
    listener: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, accepted = listener
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setenv("CONFLUENCE_URL", url)
    monkeypatch.setenv("CONFLUENCE_BEARER_TOKEN", "SECRETpart1\nSECRETpart2")
    for name in ("CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    code = cli.main(["plan", "policies", "--no-progress"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == (
        "error: CONFLUENCE_BEARER_TOKEN contains a line break or other whitespace; paste the token again\n"
    )
    assert accepted == []


def test_redaction_covers_the_escaped_and_basic_forms_of_a_secret() -> None:
    basic = base64.b64encode(b"a@b.c:tok\\en").decode()
    text = (f"Illegal header value b'Bearer SECRET\\nPART' / 'SECRET\\nPART' / SECRET\nPART / Basic {basic} "
            "/ caf\\xc3\\xa9 / caf\\xe9")
    assert redact(text, ["SECRET\nPART", basic, "caf\u00e9"]) == (
        "Illegal header value b'Bearer ***' / '***' / *** / Basic *** / *** / ***"
    )


def test_an_error_from_a_basic_auth_call_never_shows_the_base64_credentials() -> None:
    email, token = "bot@acme.example", "tok-basic-SECRET"
    basic = base64.b64encode(f"{email}:{token}".encode()).decode()

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=f"bad header {request.headers['Authorization']}",
                              headers={"Content-Type": "text/plain"})

    env = {"CONFLUENCE_EMAIL": email, "CONFLUENCE_API_TOKEN": token}
    with open_client("https://acme.atlassian.net", read_only=True, env=env,
                     transport=httpx.MockTransport(echo)) as client, pytest.raises(ApiError) as exc:
        client.get_json("/wiki/api/v2/space-role-mode")
    assert str(exc.value) == "GET /wiki/api/v2/space-role-mode: 400: Bad Request: bad header Basic ***"
    assert basic not in str(exc.value)
