"""What a Data Center answer means beyond its status, checked on every exchange of the DC client.

One clear line each (issue 15 item 3): the 9.1 routes missing (non-JSON 404/405), "Secure administrator
sessions" (HTTP 200 with an HTML login page on JSON-RPC), a non-admin caller answered with 500 instead of
403 (CONFSERVER-99908), a user the rate limiter blocks (Retry-After 9223372036854775807). Requests are paced
by ``X-RateLimit-Remaining`` and ``X-RateLimit-FillRate`` / ``-Interval-Seconds`` (RL-DC).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from reconciler.datacenter import wire
from reconciler.errors import ApiError, AuthError, NotFoundError


class RouteMissingError(NotFoundError):
    """The REST space-permission routes do not exist on this server (before 9.1, or disabled)."""


class WebSudoError(AuthError):
    """Secure administrator sessions intercepted a JSON-RPC call."""


class RateLimitBlockedError(ApiError):
    """The DC rate limiter allows this account no requests at all."""


MISSING_REMEDY = (
    "the REST space-permission API is missing (Confluence Data Center before 9.1, or the route is "
    "disabled); set site.jsonrpc: allow in the policy to use the legacy JSON-RPC service instead"
)
WEBSUDO_REMEDY = (
    "secure administrator sessions (WebSudo) answered with a login page instead of running the call; "
    "turn off 'Secure administrator sessions' in Confluence administration > Security configuration, "
    "or upgrade to Data Center 9.1+ and use the REST API"
)
NON_ADMIN_REMEDY = (
    "Internal Server Error; Data Center answers 500 instead of 403 when the account is not an admin of "
    "the space (CONFSERVER-99908): make it a space admin there or a Confluence administrator"
)
BLOCKED_REMEDY = (
    "Too Many Requests; the rate limiter blocks this account (X-RateLimit-Limit 0, Retry-After "
    "{retry}): ask a Confluence administrator to exempt it under Rate limiting"
)


class DcChecks:
    """The ``ResponseCheck`` of a DC client (see ``confluence.client.ResponseCheck``)."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._rate: float | None = None
        self.paced_seconds = 0.0  # total time spent waiting for tokens

    def before_request(self) -> None:
        """Spend a token we know of; with none left, wait for one at the advertised fill rate."""
        with self._lock:
            wait = 0.0
            if self._remaining is not None:
                if self._remaining <= 0 and self._rate:
                    wait = 1.0 / self._rate
                self._remaining = max(0, self._remaining - 1)
            self.paced_seconds += wait
        if wait > 0:
            self._sleep(wait)

    def check(self, method: str, path: str, response: httpx.Response, space: str | None) -> None:
        remaining, rate, blocked = wire.rate_limit(response)
        with self._lock:
            if remaining is not None:
                self._remaining = remaining
            if rate is not None:
                self._rate = rate or None
        if blocked:
            raise RateLimitBlockedError(method, path, 429, BLOCKED_REMEDY.format(
                retry=response.headers.get("Retry-After", "?")), space=space)
        permissions_call = "/permissions" in path
        if permissions_call and wire.is_route_missing(response):
            raise RouteMissingError(method, path, response.status_code, MISSING_REMEDY, space=space)
        if path.endswith(wire.RPC) and wire.is_websudo_page(response):
            raise WebSudoError(method, path, 200, WEBSUDO_REMEDY, space=space)
        if path.endswith(wire.RPC) and response.status_code in (401, 404, 405) and not wire.is_json(response):
            raise RouteMissingError(method, path, response.status_code,
                                    "the JSON-RPC service is not available: turn on 'Remote API (XML-RPC & "
                                    "SOAP)' in Confluence administration > Further configuration",
                                    space=space)
        if permissions_call and response.status_code == 500:
            raise AuthError(method, path, 500, NON_ADMIN_REMEDY, space=space)
