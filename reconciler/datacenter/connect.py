"""Open a Data Center client: the site URL (any context path), credentials from the environment only.

- ``CONFLUENCE_PAT``: a personal access token, sent as ``Authorization: Bearer`` (PAT; TFDC client.go);
- ``CONFLUENCE_USERNAME`` + ``CONFLUENCE_PASSWORD``: Basic auth (TFDC; JSONRPC).
The PAT wins when both are set. Nothing here knows the sandbox: the composition root passes its
transport and, for ``sandbox:`` sites without credentials, the sandbox's own.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.endpoint import BearerAuth, client_options, read_credential
from reconciler.datacenter import wire
from reconciler.datacenter.checks import DcChecks
from reconciler.errors import UsageError

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CREDENTIAL_HINT = "check CONFLUENCE_PAT (or CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD)"


def parse_dc_url(url: str) -> str:
    """``https://host[:port][/context]`` -> the base the ``/rest/api/...`` paths hang off."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise UsageError("the site URL must not contain credentials; set CONFLUENCE_PAT (or "
                         "CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD) instead")
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise UsageError(f"unsupported Data Center site URL {text!r}; "
                         "expected https://<host>[/<context path>]")
    if parts.scheme == "http" and host not in _LOOPBACK:
        raise UsageError(f"site URL {text!r} must use https (http is only for 127.0.0.1 and localhost)")
    if parts.query or parts.fragment:
        raise UsageError(f"site URL {text!r} must not have a query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def dc_auth(env: Mapping[str, str]) -> tuple[httpx.Auth, tuple[str, ...]] | None:
    """The auth from the environment and the secrets to redact; None when no credentials are set."""
    pat = read_credential(env, "CONFLUENCE_PAT", "paste the token again", ascii_only=True)
    username = read_credential(env, "CONFLUENCE_USERNAME", "check the username")
    password = (env.get("CONFLUENCE_PASSWORD") or "").strip("\r\n")
    if pat:
        return BearerAuth(pat), (pat,)
    if username and password:
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return httpx.BasicAuth(username, password), (password, encoded)
    if username or password:
        missing = "CONFLUENCE_PASSWORD" if username else "CONFLUENCE_USERNAME"
        raise UsageError(f"no Confluence Data Center credentials: set {missing} too (or CONFLUENCE_PAT)")
    return None


def open_dc_client(
    base_url: str,
    *,
    read_only: bool,
    env: Mapping[str, str] = os.environ,
    transport: httpx.BaseTransport | None = None,
    fallback_pat: str | None = None,
    checks: DcChecks | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ConfluenceClient:
    """A client for a DC site; ``fallback_pat`` is used when the environment has no credentials (the
    composition root passes the sandbox's own for ``sandbox:`` sites)."""
    found = dc_auth(env)
    if found is None:
        if fallback_pat is None:
            raise UsageError("no Confluence Data Center credentials: set CONFLUENCE_PAT (a personal access "
                             "token) or CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD")
        found = BearerAuth(fallback_pat), (fallback_pat,)
    auth, secrets = found
    return ConfluenceClient(base_url, auth=auth, transport=transport, read_only=read_only,
                            auth_hint=CREDENTIAL_HINT, secrets=secrets, checks=checks or DcChecks(sleep),
                            sleep=sleep, **client_options(env))


def probe_datacenter(base_url: str, transport: httpx.BaseTransport | None = None) -> str | None:
    """The DC version when ``base_url`` answers ``GET /rest/api/server-information`` like Data Center (its
    JSON, or DC's JSON error envelope when it wants a login; DC-SI, A.9 #3), else None. Anonymous, one call,
    and any failure means "not DC" (Cloud serves its REST API under /wiki, so this path is a 404 there)."""
    try:
        with httpx.Client(transport=transport, timeout=10.0, follow_redirects=False) as http:
            response = http.get(f"{base_url}{wire.SERVER_INFO}", headers={"Accept": "application/json"})
        body = response.json() if wire.is_json(response) else None
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("version"), str) and "buildNumber" in body:
        return str(body["version"])
    if response.status_code in (401, 403) and "statusCode" in body:
        return "(version hidden without a login)"
    return None
