"""Every httpx failure and every non-2xx answer becomes one of the project's errors here, once.

The message names the method, the path (never the query), the status, the site's own detail (without
secrets, errordetail.py) and how many attempts were made; a write whose outcome is unknown says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from reconciler.confluence import errordetail
from reconciler.confluence.retry import parse_retry_after, request_was_sent, status_is_retryable
from reconciler.errors import ApiError, AuthError, NotFoundError, TransportError


def status_error(
    method: str, shown: str, response: httpx.Response, space: str | None, *, retries: int, waited: float,
    budget: float, secrets: Sequence[str], auth_hint: str,
) -> ApiError:
    """The error for a non-2xx answer: 401/403 ``AuthError``, 404 ``NotFoundError``, else ``ApiError``."""
    status = response.status_code
    detail = errordetail.describe(response, secrets)
    if retries:
        detail += f" (after {retries + 1} attempts)"
    hinted = parse_retry_after(response.headers.get("Retry-After"))
    if (
        hinted is not None
        and status_is_retryable(method, status)
        and waited + hinted > budget
    ):
        detail += f" (the site asked to wait {hinted:.0f}s more, past the retry budget)"
    if status == 401 and auth_hint:
        detail += f"; {auth_hint}"
    cls: type[ApiError] = ApiError
    if status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFoundError
    return cls(method, shown, status, detail, space=space)


def transport_error(
    method: str, shown: str, exc: httpx.HTTPError, space: str | None, *, retries: int, base_url: str,
    secrets: Sequence[str],
) -> TransportError:
    """The error for a call that got no answer: unreachable host, timeout, broken connection."""
    host = urlsplit(base_url).netloc or base_url
    reason = errordetail.redact(str(exc).strip() or type(exc).__name__, secrets)
    reason = " ".join(reason.split())
    if isinstance(exc, httpx.TransportError) and not request_was_sent(exc):
        detail = f"cannot reach {host}: {reason}"
    elif isinstance(exc, httpx.TimeoutException):
        detail = f"{host} did not answer in time: {reason}"
    else:
        detail = f"the connection to {host} failed: {reason}"
    if method != "GET" and isinstance(exc, httpx.TransportError) and request_was_sent(exc):
        detail += " (the outcome of this write is unknown: re-read before retrying)"
    if retries:
        detail += f" (after {retries + 1} attempts)"
    return TransportError(method, shown, None, detail, space=space)
