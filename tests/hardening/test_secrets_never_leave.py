"""Secrets never leave, in any encoding (issue 14 §4): error bodies, 200 answers, the Admin API URL."""
# ruff: noqa: E501 - expected messages are compared whole

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import cli
from reconciler.errors import ApiError, UsageError
from tests.kit.sites import site_client as open_client

from .conftest import POLICIES

SITE = "https://acme.atlassian.net"
# what an API token can hold (printable ASCII, no whitespace), long enough not to match by chance
TOKENS = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=12, max_size=40)


def encodings(secret: str) -> list[str]:
    """Every form a server is known to echo a value in."""
    as_json = json.dumps(secret)[1:-1]
    url = quote(secret, safe="")
    lower = re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), url)
    return [secret, as_json, as_json.replace("/", "\\/"), url, lower, quote(secret), quote_plus(secret),
            html.escape(secret), base64.b64encode(f"bot@acme.example:{secret}".encode()).decode()]


def _client(token: str, answer: httpx.Response) -> httpx.Client:
    env = {"CONFLUENCE_EMAIL": "bot@acme.example", "CONFLUENCE_API_TOKEN": token}
    return open_client(SITE, read_only=True, env=env, transport=httpx.MockTransport(lambda _r: answer))  # type: ignore[return-value]


@settings(max_examples=60, deadline=None)
@given(token=TOKENS, status=st.sampled_from([400, 403, 409, 422]))
def test_an_error_body_never_shows_the_token_in_any_encoding(token: str, status: int) -> None:
    forms = encodings(token)
    body = {"errors": [{"title": "Bad value", "detail": " | ".join(forms)}]}
    answer = httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with _client(token, answer) as client, pytest.raises(ApiError) as caught:  # type: ignore[attr-defined]
        client.get_json("/wiki/api/v2/space-role-mode")
    message = str(caught.value)
    assert message.startswith("GET /wiki/api/v2/space-role-mode: ")
    assert [form for form in forms if form in message] == []


def test_a_url_encoded_and_a_json_escaped_token_in_an_error_body_are_redacted() -> None:
    token = "tok/en+va=lue"
    text = f"echo {quote(token, safe='')} {quote(token, safe='').replace('%2F', '%2f')} {json.dumps(token)}"
    answer = httpx.Response(400, text=text, headers={"Content-Type": "text/plain"})
    with _client(token, answer) as client, pytest.raises(ApiError) as caught:  # type: ignore[attr-defined]
        client.get_json("/wiki/api/v2/space-role-mode")
    assert str(caught.value) == 'GET /wiki/api/v2/space-role-mode: 400: Bad Request: echo *** *** "***"'


@settings(max_examples=40, deadline=None)
@given(token=TOKENS)
def test_a_token_the_server_echoes_into_a_field_of_a_200_answer_never_reaches_the_caller(token: str) -> None:
    forms = encodings(token)
    body = {"results": [{"id": "1", "key": "ENG", "name": f"Eng {form}", "description": {"x": [form]}}
                        for form in forms], "_links": {}}
    raw = json.dumps(body, ensure_ascii=True).encode()  # \\uXXXX escapes too
    answer = httpx.Response(200, content=raw, headers={"Content-Type": "application/json"})
    with _client(token, answer) as client:  # type: ignore[attr-defined]
        items = list(client.paginate("/wiki/api/v2/spaces"))
    shown = json.dumps(items, ensure_ascii=False)
    assert [form for form in forms if form in shown] == []
    assert [item["name"] for item in items] == ["Eng ***"] * len(forms)


def test_a_lone_surrogate_in_a_200_answer_becomes_a_replacement_character() -> None:
    answer = httpx.Response(200, content=b'{"results": [{"name": "R\\udc80D"}], "_links": {}}',
                            headers={"Content-Type": "application/json"})
    with _client("tok-123456789", answer) as client:  # type: ignore[attr-defined]
        assert list(client.paginate("/wiki/api/v2/spaces")) == [{"name": "R\ufffdD"}]


@pytest.mark.parametrize(("url", "message"), [
    ("https://admin:hunter2@api.atlassian.com", "ATLASSIAN_ADMIN_URL must not contain credentials; set the key in ATLASSIAN_ADMIN_API_KEY instead"),
    ("https://hunter2@api.atlassian.com/", "ATLASSIAN_ADMIN_URL must not contain credentials; set the key in ATLASSIAN_ADMIN_API_KEY instead"),
    ("https://admin:hunter2@[::1", "ATLASSIAN_ADMIN_URL is malformed (Invalid IPv6 URL; not shown, it may hold credentials); accepted forms: https://<site>.atlassian.net, https://api.atlassian.com/ex/confluence/<cloudId> or sandbox:<name>"),
    ("http://admin.example.com", "ATLASSIAN_ADMIN_URL 'http://admin.example.com' must use https (http is only for 127.0.0.1 and localhost: the Admin API key must not cross the network in clear text)"),
    ("http://10.0.0.7:8080", "ATLASSIAN_ADMIN_URL 'http://10.0.0.7:8080' must use https (http is only for 127.0.0.1 and localhost: the Admin API key must not cross the network in clear text)"),
])
def test_the_admin_api_url_never_carries_credentials_nor_sends_the_key_in_clear_text(url: str, message: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    env = {"ATLASSIAN_ADMIN_API_KEY": "adm-key-SECRET", "ATLASSIAN_ADMIN_URL": url}
    with pytest.raises(UsageError) as caught:
        open_client(SITE, read_only=True, env=env, admin=True, transport=httpx.MockTransport(record))
    assert str(caught.value) == message
    assert "hunter2" not in str(caught.value)
    assert sent == []


def test_the_admin_api_key_may_go_over_http_to_loopback_only() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "127.0.0.1"
        return httpx.Response(200, json={"ok": True})

    env = {"ATLASSIAN_ADMIN_API_KEY": "adm-key-SECRET", "ATLASSIAN_ADMIN_URL": "http://127.0.0.1:8999/"}
    with open_client(SITE, read_only=True, env=env, admin=True, transport=httpx.MockTransport(answer)) as client:
        assert client.base_url == "http://127.0.0.1:8999"
        assert client.get_json("/admin/v1/orgs") == {"ok": True}


def test_a_plan_against_a_site_that_echoes_the_token_shows_no_form_of_it(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "tok/SECRET+value=="

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, json={"message": f"upstream said {quote(token, safe='')} {json.dumps(token)}"})

    monkeypatch.setenv("CONFLUENCE_URL", SITE)
    monkeypatch.setenv("CONFLUENCE_EMAIL", "bot@acme.example")
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", token)
    monkeypatch.setenv("RECONCILER_MAX_RETRIES", "0")
    real = httpx.Client.__init__

    def with_echo(self: httpx.Client, *args: object, **kwargs: object) -> None:
        kwargs["transport"] = httpx.MockTransport(echo)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.Client, "__init__", with_echo)
    assert cli.main(["plan", str(POLICIES), "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert err == 'error: GET /wiki/api/v2/space-role-mode: 502: Bad Gateway: upstream said *** "***"\n'
    assert [form for form in encodings(token) if form in out + err] == []
