"""The sandbox's HTTP surface: ``handle(site, request) -> response``, shared by both front doors.

Order of work for one request: ``/_sandbox/`` control endpoints (no auth, no faults, not counted) ->
gateway prefix ``/ex/confluence/{cloudId}`` -> route match and counter -> rate limit (429) -> injected
fault before the work (500, 503) -> ``/admin/`` to the Admin API module, or authentication (401) and the
route handler -> injected fault after the work (502, dropped connection: the write may have happened,
the caller cannot know) -> the answer carries when it is due (``Response.not_before``: the latency, + a
"slow" fault, since the request arrived; ``faults.answer_time``), and the front door sends it then
(``faults.wait_until``), its head formatted first.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.sandbox import admin_api, control, routes_members, routes_v1, routes_v2, rules
from reconciler.sandbox.failures import HttpError, not_found
from reconciler.sandbox.faults import answer_time, rate_limit_reset, retry_after_seconds
from reconciler.sandbox.http import Request, Response, unauthorized, v1_error, v2_error
from reconciler.sandbox.routes import ROUTES, Ctx, Route
from reconciler.sandbox.site import Site
from reconciler.sandbox.state import SiteState, User

__all__ = ["Request", "Response", "handle"]

_GATEWAY = re.compile(r"^/ex/confluence/([^/]+)(/.*)$")
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F-]{16,}|ari:.*)$")
_ = (routes_members, routes_v1, routes_v2)  # imported for their route registrations


@dataclass(frozen=True)
class _Target:
    path: str  # without the gateway prefix
    prefix: str  # "" or "/ex/confluence/<cloudId>"
    route: Route | None
    params: dict[str, str]
    template: str
    allowed: tuple[str, ...] = ()  # methods of the routes at this path, when the request's is not one


def handle(site: Site, request: Request) -> Response:
    arrived = request.arrived if request.arrived is not None else time.monotonic()
    if site.before_request is not None:
        site.before_request()
    if request.path.startswith("/_sandbox/"):
        return control.handle(site, request)
    if request.path == admin_api.TENANT_INFO:  # unauthenticated, like the real one
        return admin_api.tenant_info(site)
    target = _resolve(site, request)
    site.count(f"{request.method} {target.template}")
    _advance_tasks(site)
    error = _error_for(target.path)
    fault = _edge_fault(site, error)
    if isinstance(fault, Response):
        return fault
    response = _dispatch(site, request, target, error)
    if fault == "502":
        response = error(HttpError(502, "Injected fault after the request was processed (sandbox)"))
    elif fault == "drop":
        response = Response(0, drop=True)
    elif site.limiter is not None and site.knobs.budget_headers:
        response.headers.update(_budget_headers(site))
    response.not_before = answer_time(arrived, site.knobs.latency_ms
                                      + (site.knobs.slow_ms if fault == "slow" else 0.0))
    return response


def _advance_tasks(site: Site) -> None:
    """Role updates and deletions answered 202 run ``role_task_lag`` requests later (then are saved)."""
    with site.lock:
        tasks = site.state.tasks
        if not tasks:
            return
        for task in tasks:
            task.wait -= 1
        if all(task.wait >= 0 for task in tasks):
            return
        with site.writing() as state:
            ready = [task for task in state.tasks if task.wait < 0]
            state.tasks = [task for task in state.tasks if task.wait >= 0]
            for task in ready:
                rules.run_task(state, task)


def _budget_headers(site: Site) -> dict[str, str]:
    """``X-RateLimit-Limit``/``-Remaining`` and ``X-RateLimit-NearLimit`` (under 20% left) on answers."""
    limiter = site.limiter
    assert limiter is not None
    headers = {
        "X-RateLimit-Limit": str(int(limiter.capacity)),
        "X-RateLimit-Remaining": str(limiter.remaining),
    }
    if limiter.near_limit:
        headers["X-RateLimit-NearLimit"] = "true"
    return headers


def _edge_fault(site: Site, error: Callable[[HttpError], Response]) -> Response | str | None:
    """A 429 or an injected 500/503 response, else the fault to apply later (``None``: no fault)."""
    limited = _rate_limited(site, error)
    if limited is not None:
        return limited
    fault = site.injector.draw()
    if fault == "500":
        return error(HttpError(500, "Injected fault (sandbox)"))
    if fault == "503":
        headers = {"Retry-After": str(retry_after_seconds(1, site.knobs.retry_after_s))}
        return error(HttpError(503, "Injected fault (sandbox)", headers))
    return fault


def _resolve(site: Site, request: Request) -> _Target:
    path, prefix = request.path, ""
    match = _GATEWAY.match(path)
    if match is not None:
        prefix, path = f"/ex/confluence/{match.group(1)}", match.group(2)
    if path.startswith("/admin/"):
        template = "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))
        return _Target(path, prefix, None, {}, template)
    for route in ROUTES:
        params = route.match(request.method, path)
        if params is not None:
            return _Target(path, prefix, route, params, route.template)
    others = [r for r in ROUTES if r.match(r.method, path) is not None]
    if others:
        return _Target(path, prefix, None, {}, others[0].template, tuple(sorted(r.method for r in others)))
    return _Target(path, prefix, None, {}, "<unknown>")


def _error_for(path: str) -> Callable[[HttpError], Response]:
    return v1_error if path.startswith("/wiki/rest/api") else v2_error


def _rate_limited(site: Site, error: Callable[[HttpError], Response]) -> Response | None:
    limiter = site.limiter
    if limiter is None:
        return None
    wait = limiter.acquire()
    if wait is None:
        return None
    site.count_throttled()
    seconds = retry_after_seconds(wait, site.knobs.retry_after_s)
    headers = {
        "Retry-After": str(seconds),
        "X-RateLimit-Reset": rate_limit_reset(seconds),
        "X-RateLimit-Limit": str(int(limiter.capacity)),
        "X-RateLimit-Remaining": "0",
    }
    return error(HttpError(429, "Rate limit exceeded", headers))


def _dispatch(
    site: Site, request: Request, target: _Target, error: Callable[[HttpError], Response]
) -> Response:
    if target.path.startswith("/admin/") and not target.prefix:
        return admin_api.handle(site, request)
    with site.reading() as state:
        user = authenticate(state, request, gateway=bool(target.prefix))
        cloud_id = state.cloud_id
    if user is None:
        return unauthorized()
    try:
        if target.prefix and target.prefix != f"/ex/confluence/{cloud_id}":
            raise not_found("No Confluence site with this cloud id")
        if target.allowed:
            raise HttpError(
                405, f"{request.method} is not allowed here", {"Allow": ", ".join(target.allowed)}
            )
        if target.route is None:
            raise not_found(f"No API at {request.method} {target.path}")
        ctx = Ctx(site, request, user, target.params, f"{request.origin}{target.prefix}/wiki", target.path)
        return target.route.handler(ctx)
    except HttpError as failure:
        return error(failure)


def authenticate(state: SiteState, request: Request, *, gateway: bool) -> User | None:
    """Basic ``email:api-token`` anywhere; ``Bearer <token>`` only through the gateway prefix."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            email, _, token = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = state.user_by_email(email)
        return user if user is not None and _same(user.api_token, token) else None
    if scheme.lower() == "bearer" and gateway:
        for user in state.users.values():
            if _same(user.api_token, credentials.strip()):
                return user
    return None


def _same(expected: str | None, given: str) -> bool:
    return expected is not None and bool(given) and hmac.compare_digest(expected.encode(), given.encode())
