"""open_client: URL forms, credentials from the environment only, knobs, one-line usage errors."""

from __future__ import annotations

import httpx
import pytest
import respx

from reconciler.errors import UsageError
from reconciler.flows.connect import parse_site
from tests.kit.sites import site_client as open_client

BASIC = {"CONFLUENCE_EMAIL": "bot@acme.example", "CONFLUENCE_API_TOKEN": "tok-basic"}
BEARER = {"CONFLUENCE_BEARER_TOKEN": "tok-bearer"}
ACCEPTED = (
    "accepted forms: https://<site>.atlassian.net, https://api.atlassian.com/ex/confluence/<cloudId> "
    "or sandbox:<name>"
)


@pytest.mark.parametrize(
    ("url", "base", "form"),
    [
        ("https://acme.atlassian.net", "https://acme.atlassian.net", "site"),
        ("https://acme.atlassian.net/wiki/", "https://acme.atlassian.net", "site"),
        (
            "https://api.atlassian.com/ex/confluence/1a2b-3c",
            "https://api.atlassian.com/ex/confluence/1a2b-3c",
            "gateway",
        ),
        (
            "https://api.atlassian.com/ex/confluence/1a2b-3c/wiki",
            "https://api.atlassian.com/ex/confluence/1a2b-3c",
            "gateway",
        ),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765", "site"),
        ("sandbox:demo", "https://sandbox.invalid", "sandbox"),
    ],
    ids=["site", "site with /wiki", "gateway", "gateway with /wiki", "local sandbox server", "sandbox"],
)
def test_the_accepted_site_url_forms(url: str, base: str, form: str) -> None:
    site = parse_site(url)
    assert (site.base, site.form) == (base, form)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://acme.atlassian.net", f"unsupported site URL 'ftp://acme.atlassian.net'; {ACCEPTED}"),
        (
            "https://acme.atlassian.net/display/ENG",
            f"unsupported site URL 'https://acme.atlassian.net/display/ENG'; {ACCEPTED}",
        ),
        ("acme", f"unsupported site URL 'acme'; {ACCEPTED}"),
        ("sandbox:", f"site URL 'sandbox:' has no sandbox name; {ACCEPTED}"),
        (
            "http://acme.atlassian.net",
            "site URL 'http://acme.atlassian.net' must use https (http is only for 127.0.0.1 and localhost)",
        ),
        (
            "https://bot:secret@acme.atlassian.net",
            ("the site URL must not contain credentials; set CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN "
            "(or CONFLUENCE_BEARER_TOKEN) instead"),
        ),
    ],
    ids=["scheme", "a page URL", "no scheme", "sandbox without name", "plain http", "credentials in URL"],
)
def test_an_unsupported_url_is_a_usage_error_listing_the_accepted_forms(url: str, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        open_client(url, read_only=True, env=BASIC)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {},
            ("no Confluence credentials: set CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN "
            "(or CONFLUENCE_BEARER_TOKEN) for https://acme.atlassian.net"),
        ),
        (
            {"CONFLUENCE_EMAIL": "bot@acme.example"},
            ("no Confluence credentials: set CONFLUENCE_API_TOKEN (or CONFLUENCE_BEARER_TOKEN) for "
            "https://acme.atlassian.net"),
        ),
        (
            {"CONFLUENCE_API_TOKEN": "tok-only", "CONFLUENCE_EMAIL": "  "},
            ("no Confluence credentials: set CONFLUENCE_EMAIL (or CONFLUENCE_BEARER_TOKEN) for "
            "https://acme.atlassian.net"),
        ),
    ],
    ids=["nothing set", "token missing", "email blank"],
)
def test_missing_credentials_name_the_variables_to_set_never_their_values(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError) as exc:
        open_client("https://acme.atlassian.net", read_only=True, env=env)
    assert str(exc.value) == message
    assert "tok-only" not in str(exc.value)


def test_confluence_url_overrides_the_policy_site_url() -> None:
    env = {**BASIC, "CONFLUENCE_URL": "https://other.atlassian.net"}
    with open_client("sandbox:demo", read_only=True, env=env) as client:
        assert client.base_url == "https://other.atlassian.net"
        assert client.read_only


def test_the_gateway_uses_the_bearer_token_when_both_kinds_are_set() -> None:
    gateway = "https://api.atlassian.com/ex/confluence/c1"
    with respx.mock(base_url=gateway) as api:
        route = api.get("/wiki/api/v2/space-role-mode").mock(return_value=httpx.Response(200, json={}))
        with open_client(gateway, read_only=True, env={**BASIC, **BEARER}) as client:
            client.get_json("/wiki/api/v2/space-role-mode")
    assert route.calls[0].request.headers["Authorization"] == "Bearer tok-bearer"


def test_the_site_uses_basic_auth_when_both_kinds_are_set() -> None:
    with respx.mock(base_url="https://acme.atlassian.net") as api:
        route = api.get("/wiki/api/v2/space-role-mode").mock(return_value=httpx.Response(200, json={}))
        with open_client("https://acme.atlassian.net", read_only=False, env={**BASIC, **BEARER}) as client:
            client.get_json("/wiki/api/v2/space-role-mode")
    assert route.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_knobs_come_from_the_environment() -> None:
    env = {**BASIC, "RECONCILER_CONCURRENCY": "12", "RECONCILER_MAX_RETRIES": "2"}
    with open_client("https://acme.atlassian.net", read_only=True, env=env) as client:
        assert client.concurrency == 12
        assert client._retry.max_retries == 2


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "RECONCILER_CONCURRENCY",
            "lots",
            "RECONCILER_CONCURRENCY must be a whole number from 1 to 64, not 'lots'",
        ),
        (
            "RECONCILER_CONCURRENCY",
            "0",
            "RECONCILER_CONCURRENCY must be a whole number from 1 to 64, not '0'",
        ),
        (
            "RECONCILER_RETRY_BUDGET",
            "-1",
            "RECONCILER_RETRY_BUDGET must be a number of seconds from 0 to 3600, not '-1'",
        ),
    ],
    ids=["not a number", "zero workers", "negative budget"],
)
def test_a_bad_knob_is_a_usage_error(name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        open_client("https://acme.atlassian.net", read_only=True, env={**BASIC, name: value})
    assert str(exc.value) == message


def test_the_admin_api_needs_its_own_key() -> None:
    with pytest.raises(UsageError) as exc:
        open_client("https://acme.atlassian.net", read_only=True, env=BASIC, admin=True)
    assert str(exc.value) == (
        "no Admin API key: set ATLASSIAN_ADMIN_API_KEY (an org API key from admin.atlassian.com)"
    )
    env = {**BASIC, "ATLASSIAN_ADMIN_API_KEY": "org-key"}
    with open_client("https://acme.atlassian.net", read_only=True, env=env, admin=True) as client:
        assert client.base_url == "https://api.atlassian.com"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONFLUENCE_BEARER_TOKEN": "SECRETpart1\nSECRETpart2"},
         "CONFLUENCE_BEARER_TOKEN contains a line break or other whitespace; paste the token again"),
        ({"CONFLUENCE_BEARER_TOKEN": "SECRET\x7fTOKEN"},
         "CONFLUENCE_BEARER_TOKEN contains a control character; paste the token again"),
        ({"CONFLUENCE_EMAIL": "a@b.c", "CONFLUENCE_API_TOKEN": "SECRET\nTOK"},
         "CONFLUENCE_API_TOKEN contains a line break or other whitespace; paste the token again"),
        ({"CONFLUENCE_EMAIL": "a@b.c", "CONFLUENCE_API_TOKEN": "SECRET\u00e9TOK"},
         "CONFLUENCE_API_TOKEN contains a character that is not plain ASCII; paste the token again"),
        ({"CONFLUENCE_EMAIL": "a @b.c", "CONFLUENCE_API_TOKEN": "SECRET"},
         "CONFLUENCE_EMAIL contains a line break or other whitespace; check the address"),
    ],
    ids=["newline in bearer", "DEL in bearer", "newline in api token", "non-ASCII api token",
         "space in email"],
)
def test_a_pasted_credential_with_whitespace_or_control_characters_names_the_variable_not_the_value(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError) as exc:
        open_client("https://acme.atlassian.net", read_only=True, env=env)
    assert str(exc.value) == message
    assert "SECRET" not in str(exc.value)


def test_an_admin_api_key_with_a_line_break_names_the_variable() -> None:
    with pytest.raises(UsageError) as exc:
        open_client("https://acme.atlassian.net", read_only=True, admin=True,
                    env={"ATLASSIAN_ADMIN_API_KEY": "SECRET\r\nKEY"})
    assert str(exc.value) == (
        "ATLASSIAN_ADMIN_API_KEY contains a line break or other whitespace; paste the key again"
    )


def test_whitespace_around_a_credential_is_ignored() -> None:
    with respx.mock(base_url="https://acme.atlassian.net") as api:
        route = api.get("/wiki/api/v2/space-role-mode").mock(return_value=httpx.Response(200, json={}))
        with open_client("https://acme.atlassian.net", read_only=True,
                         env={"CONFLUENCE_BEARER_TOKEN": "  tok-bearer\n"}) as client:
            client.get_json("/wiki/api/v2/space-role-mode")
    assert route.calls[0].request.headers["Authorization"] == "Bearer tok-bearer"
