"""Where a Cloud site is and how to log in: URL forms, credentials and knobs from the environment, the client.

DESIGN.md §7, docs/configuration.md.

Credentials come only from the environment and never appear in a message:

- ``CONFLUENCE_URL`` overrides ``site.url``;
- ``CONFLUENCE_EMAIL`` + ``CONFLUENCE_API_TOKEN``: Basic auth (site URL, or a scoped token on the gateway);
- ``CONFLUENCE_BEARER_TOKEN``: Bearer auth (OAuth 2.0 / service account, through the gateway);
- ``ATLASSIAN_ADMIN_API_KEY``: the org Admin API (``admin=True``), ``ATLASSIAN_ADMIN_URL`` overrides its host.

A caller may give a ``DefaultLogin`` used when the environment has no credentials (the composition root
gives the sandbox's own accounts for ``sandbox:<name>`` sites; this module knows nothing of the sandbox).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from reconciler.confluence.client import (
    DEFAULT_CONCURRENCY,
    DEFAULT_REQUEST_DEADLINE,
    DEFAULT_RUN_DEADLINE,
    ConfluenceClient,
)
from reconciler.confluence.retry import RetryPolicy
from reconciler.errors import UsageError

# The forms the tool accepts, as messages list them (the composition root parses the sandbox form itself).
ACCEPTED_FORMS = (
    "https://<site>.atlassian.net, https://api.atlassian.com/ex/confluence/<cloudId> or sandbox:<name>"
)
ADMIN_API_URL = "https://api.atlassian.com"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# the variables httpx reads (trust_env) and the schemes it can use without extra packages
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_PROXY_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class SiteUrl:
    """A parsed site URL: the base to prefix ``/wiki/...`` paths with, and which form it is."""

    base: str
    form: str  # "site" | "gateway", or a form the caller names (e.g. "sandbox")
    label: str = ""  # how a message names the site (default: its base)
    admin_base: str = ""  # where its org's Admin API is, when not the default


@dataclass(frozen=True, slots=True)
class DefaultLogin:
    """Credentials for when the environment has none: ``label`` names their owner in messages."""

    basic: Callable[[], tuple[str, str]]  # (email, API token)
    admin_key: Callable[[], str]
    label: str


def parse_site_url(url: str, accepted: str = ACCEPTED_FORMS) -> SiteUrl:
    text = url.strip()
    parts = _split_url(text, "the site URL", "set CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN "
                       "(or CONFLUENCE_BEARER_TOKEN) instead")
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(f"unsupported site URL {text!r}; accepted forms: {accepted}")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise UsageError(f"site URL {text!r} must use https (http is only for 127.0.0.1 and localhost)")
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    segments = [s for s in path.split("/") if s]
    if path in ("", "/wiki"):
        return SiteUrl(origin, "site")
    if len(segments) >= 3 and segments[:2] == ["ex", "confluence"] and segments[3:] in ([], ["wiki"]):
        return SiteUrl(f"{origin}/ex/confluence/{segments[2]}", "gateway")
    raise UsageError(f"unsupported site URL {text!r}; accepted forms: {accepted}")


def _split_url(text: str, what: str, advice: str) -> SplitResult:
    """``text`` split, or a usage error: credentials in it (never echoed), a malformed host or port."""
    try:
        parts = urlsplit(text)
        port = parts.port
        has_credentials = bool(parts.username or parts.password)
    except ValueError as err:  # "Invalid IPv6 URL", "Port out of range 0-65535", a non-numeric port
        if "@" in text:  # the text may hold credentials: do not show it
            raise UsageError(f"{what} is malformed ({err}; not shown, it may hold credentials); "
                             f"accepted forms: {ACCEPTED_FORMS}") from None
        raise UsageError(f"{what} {text!r} is malformed ({err}); accepted forms: {ACCEPTED_FORMS}") from None
    if has_credentials:
        raise UsageError(f"{what} must not contain credentials; {advice}")
    if port == 0 or any(ch.isspace() or not ch.isprintable() for ch in text):
        why = "port 0" if port == 0 else "a space or control character"
        raise UsageError(f"{what} {text!r} is malformed ({why}); accepted forms: {ACCEPTED_FORMS}")
    try:
        httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as err:
        raise UsageError(f"{what} {text!r} is malformed ({err}); accepted forms: {ACCEPTED_FORMS}") from None
    return parts


def check_proxy_env(env: Mapping[str, str]) -> None:
    """A proxy variable httpx would use but cannot (an unsupported scheme, a bad port) is a usage error
    naming the variable, never its value (it may hold credentials), raised before any request."""
    for name in _PROXY_VARIABLES:
        value = _clean(env.get(name))
        if not value:
            continue
        try:
            parts = urlsplit(value if "://" in value else f"http://{value}")
            port = parts.port
        except ValueError as err:
            raise UsageError(f"{name} is not a valid proxy URL ({err}); fix or unset it") from None
        if parts.scheme not in _PROXY_SCHEMES:
            raise UsageError(f"{name} uses the unsupported proxy scheme '{parts.scheme}'; "
                             f"use {' or '.join(_PROXY_SCHEMES)}, or unset it")
        if not parts.hostname or port == 0:
            raise UsageError(f"{name} is not a valid proxy URL (no host or port 0); fix or unset it")


def open_client(
    site: SiteUrl,
    *,
    read_only: bool,
    env: Mapping[str, str] = os.environ,
    admin: bool = False,
    transport: httpx.BaseTransport | None = None,
    default_login: DefaultLogin | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ConfluenceClient:
    """A client for the site (or, with ``admin=True``, for the org Admin API of that site's org).

    ``transport`` replaces the network; ``default_login`` is used when the environment has no credentials.
    """
    if transport is None:  # httpx reads the proxy variables of the process itself (trust_env)
        check_proxy_env(os.environ)
    auth, hint, secrets = _admin_auth(env, default_login) if admin else _site_auth(site, env, default_login)
    base = _admin_base(site, env) if admin else site.base
    return ConfluenceClient(
        base,
        auth=auth,
        transport=transport,
        read_only=read_only,
        retry=_retry_policy(env),
        concurrency=_int_knob(env, "RECONCILER_CONCURRENCY", DEFAULT_CONCURRENCY, 1, 64),
        timeout=_float_knob(env, "RECONCILER_TIMEOUT", 30.0, 1.0, 600.0),
        request_deadline=_float_knob(env, "RECONCILER_REQUEST_DEADLINE", DEFAULT_REQUEST_DEADLINE,
                                     1.0, 3600.0),
        run_deadline=_float_knob(env, "RECONCILER_RUN_DEADLINE", DEFAULT_RUN_DEADLINE, 1.0, 7 * 86400.0),
        sleep=sleep,
        auth_hint=hint,
        secrets=secrets,
    )


_Auth = tuple[httpx.Auth, str, tuple[str, ...]]


def _site_auth(site: SiteUrl, env: Mapping[str, str], default: DefaultLogin | None) -> _Auth:
    email = _credential(env, "CONFLUENCE_EMAIL", "check the address")
    token = _credential(env, "CONFLUENCE_API_TOKEN", "paste the token again", ascii_only=True)
    bearer = _credential(env, "CONFLUENCE_BEARER_TOKEN", "paste the token again", ascii_only=True)
    basic_hint = "check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN"
    bearer_hint = "check CONFLUENCE_BEARER_TOKEN (it must be valid for this site and its scopes)"
    if bearer and (site.form == "gateway" or not (email and token)):
        return _BearerAuth(bearer), bearer_hint, (bearer,)
    if email and token:
        return httpx.BasicAuth(email, token), basic_hint, (token, _basic_form(email, token))
    if default is not None and not (email or token):
        sb_email, sb_token = default.basic()
        return httpx.BasicAuth(sb_email, sb_token), f"{default.label} refused its default credentials", (
            sb_token, _basic_form(sb_email, sb_token),
        )
    missing = [name for name, value in (("CONFLUENCE_EMAIL", email), ("CONFLUENCE_API_TOKEN", token))
               if not value]
    raise UsageError(
        f"no Confluence credentials: set {' and '.join(missing)} "
        f"(or CONFLUENCE_BEARER_TOKEN) for {site.label or site.base}"
    )


def _admin_auth(env: Mapping[str, str], default: DefaultLogin | None) -> _Auth:
    key = _credential(env, "ATLASSIAN_ADMIN_API_KEY", "paste the key again", ascii_only=True)
    hint = "check ATLASSIAN_ADMIN_API_KEY"
    if key:
        return _BearerAuth(key), hint, (key,)
    if default is not None:
        sb_key = default.admin_key()
        return _BearerAuth(sb_key), f"{default.label} refused its default Admin API key", (sb_key,)
    raise UsageError(
        "no Admin API key: set ATLASSIAN_ADMIN_API_KEY (an org API key from admin.atlassian.com)"
    )


def _admin_base(site: SiteUrl, env: Mapping[str, str]) -> str:
    override = _clean(env.get("ATLASSIAN_ADMIN_URL"))
    if override:
        return parse_admin_url(override)
    if site.admin_base:
        return site.admin_base
    host = urlsplit(site.base).hostname or ""
    if host in _LOOPBACK:  # `reconciler sandbox serve` serves the Admin API on the same origin
        parts = urlsplit(site.base)
        return f"{parts.scheme}://{parts.netloc}"
    return ADMIN_API_URL


def parse_admin_url(text: str) -> str:
    """``ATLASSIAN_ADMIN_URL`` checked like the site URL: no credentials in it (never echoed), https except
    to loopback (the Admin API key is never sent in clear text over the network)."""
    parts = _split_url(text, "ATLASSIAN_ADMIN_URL", "set the key in ATLASSIAN_ADMIN_API_KEY instead")
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment:
        raise UsageError(f"unsupported ATLASSIAN_ADMIN_URL {text!r}; use https://<host>[/<path>]")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise UsageError(f"ATLASSIAN_ADMIN_URL {text!r} must use https (http is only for 127.0.0.1 and "
                         "localhost: the Admin API key must not cross the network in clear text)")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class _BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``; the token is kept out of ``repr``."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


def client_options(env: Mapping[str, str]) -> dict[str, Any]:
    """The client settings every backend takes from the environment: retries, concurrency, timeout."""
    return {
        "retry": _retry_policy(env),
        "concurrency": _int_knob(env, "RECONCILER_CONCURRENCY", DEFAULT_CONCURRENCY, 1, 64),
        "timeout": _float_knob(env, "RECONCILER_TIMEOUT", 30.0, 1.0, 600.0),
    }


def read_credential(env: Mapping[str, str], name: str, advice: str, *, ascii_only: bool = False) -> str:
    """A credential variable, checked like the Cloud ones (see ``_credential``)."""
    return _credential(env, name, advice, ascii_only=ascii_only)


BearerAuth = _BearerAuth  # the Bearer auth every backend uses (the token stays out of repr)


def _retry_policy(env: Mapping[str, str]) -> RetryPolicy:
    default = RetryPolicy()
    return RetryPolicy(
        max_retries=_int_knob(env, "RECONCILER_MAX_RETRIES", default.max_retries, 0, 20),
        max_total_seconds=_float_knob(env, "RECONCILER_RETRY_BUDGET", default.max_total_seconds,
                                      0.0, 3600.0),
    )


def cloud_id_hint(site: SiteUrl, env: Mapping[str, str]) -> str | None:
    """The site's cloud id when known without a request: ``ATLASSIAN_CLOUD_ID``, or a gateway URL's."""
    given = _clean(env.get("ATLASSIAN_CLOUD_ID"))
    if given:
        return given
    if site.form == "gateway":
        return site.base.rstrip("/").rsplit("/", 1)[-1]
    return None


def effective_site_url(site_url: str, env: Mapping[str, str]) -> str:
    """The site the tool talks to: ``CONFLUENCE_URL`` when set, else the policy's ``site.url``."""
    return _clean(env.get("CONFLUENCE_URL")) or _clean(site_url)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _credential(env: Mapping[str, str], name: str, advice: str, *, ascii_only: bool = False) -> str:
    """The variable's value without surrounding whitespace; a value that cannot be sent as it stands is
    a usage error naming the variable (never its value), raised before any request is made."""
    value = _clean(env.get(name))
    if any(ch.isspace() for ch in value):
        raise UsageError(f"{name} contains a line break or other whitespace; {advice}")
    if any(not ch.isprintable() for ch in value):
        raise UsageError(f"{name} contains a control character; {advice}")
    if ascii_only and not value.isascii():
        raise UsageError(f"{name} contains a character that is not plain ASCII; {advice}")
    return value


def _basic_form(email: str, token: str) -> str:
    """The base64 credentials of a Basic ``Authorization`` header, redacted like the token itself."""
    return base64.b64encode(f"{email}:{token}".encode()).decode("ascii")


def _int_knob(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _clean(env.get(name))
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise UsageError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return value


def _float_knob(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = _clean(env.get(name))
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise UsageError(f"{name} must be a number of seconds from {low:g} to {high:g}, not {raw!r}")
    return value
