"""The DC sandbox's HTTP surface: ``handle(site, request) -> response`` for both front doors.

One request: ``/_sandbox/`` control (no auth, not recorded) -> the context path (a path outside it is an
HTML 404) -> route match, recorded as ``METHOD /template`` and in the request log -> authentication
(Basic, Bearer PAT; a wrong PAT is anonymous, CS-98199) -> the per-user rate limiter (RL-DC) -> an
injected fault -> the handler, its answer due once the latency has passed since the request arrived
(``Response.not_before``; the front door waits for it) -> the JSON error envelope (A.9 #3), or an HTML
page for routes that do not exist (A.9 #2: missing routes are not JSON).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.sandbox.datacenter import control
from reconciler.sandbox.datacenter.site import BLOCKED_RETRY_AFTER, DcSite
from reconciler.sandbox.datacenter.state import DcState, DcUser, has_rest_space_permissions
from reconciler.sandbox.failures import HttpError
from reconciler.sandbox.faults import answer_time
from reconciler.sandbox.http import REASONS, Request, Response

RPC_PATH = "/rpc/json-rpc/confluenceservice-v2"


@dataclass(frozen=True)
class DcCtx:
    site: DcSite
    request: Request
    user: DcUser | None  # None: anonymous
    params: dict[str, str]
    base: str  # origin + context path


Handler = Callable[[DcCtx], Response]


@dataclass(frozen=True)
class DcRoute:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    since_91: bool  # the 9.1 space-permission routes; missing (HTML 404) on older versions


ROUTES: list[DcRoute] = []


def route(method: str, template: str, *, since_91: bool = False) -> Callable[[Handler], Handler]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))

    def register(handler: Handler) -> Handler:
        ROUTES.append(DcRoute(method, template, re.compile(f"^{regex}$"), handler, since_91))
        return handler

    return register


# ------------------------------------------------------------------------------------- responses
def error(failure: HttpError) -> Response:
    """The DC REST envelope (A.9 #3; grimoirelab-perceval#180, TFDC reads message/reason)."""
    status = failure.status
    body = {
        "statusCode": status,
        "data": {"authorized": status not in (401, 403), "valid": status != 400, "errors": [],
                 "successful": False},
        "message": failure.message,
        "reason": REASONS.get(status, "Error"),
    }
    return Response.json(status, body, failure.headers)


def html(status: int, title: str, headers: dict[str, str] | None = None) -> Response:
    """An HTML page: what DC answers for routes that do not exist and for the WebSudo login (A.9 #2)."""
    page = (f"<!DOCTYPE html><html><head><title>{title} - Confluence</title></head>"
            f"<body><h1>{title}</h1></body></html>")
    return Response(status, page.encode(), {"Content-Type": "text/html;charset=UTF-8", **(headers or {})})


def not_a_route() -> Response:
    return html(404, "Page Not Found")


# ------------------------------------------------------------------------------------- pipeline
def handle(site: DcSite, request: Request) -> Response:
    arrived = request.arrived if request.arrived is not None else time.monotonic()
    if site.before_request is not None:
        site.before_request()
    if request.path.startswith("/_sandbox/"):
        return control.handle(site, request)
    with site.reading() as state:
        context, version = state.context_path, state.version
    inner = _inside(request.path, context)
    found = _match(request.method, inner, version) if inner is not None else None
    template = found[0].template if found is not None and isinstance(found[0], DcRoute) else "<unknown>"
    site.record(request.method, request.path, template)
    with site.reading() as state:
        auth = authenticate(state, request, site.knobs.bad_pat_is_anonymous)
    if isinstance(auth, Response):
        return auth
    user = auth
    limited, budget = _rate_limit(site, user)
    if limited is not None:
        return limited
    fault = site.injector.draw()
    if fault in ("500", "503"):
        return _with(error(HttpError(int(fault), "Injected fault (sandbox)")), budget)
    response = _dispatch(site, request, found, user, context)
    if fault == "502":
        response = error(HttpError(502, "Injected fault after the request was processed (sandbox)"))
    elif fault == "drop":
        response = Response(0, drop=True)
    else:
        response = _with(response, budget)
    response.not_before = answer_time(arrived, site.knobs.latency_ms)
    return response


def _inside(path: str, context: str) -> str | None:
    if not context:
        return path
    return path[len(context):] if path.startswith(context + "/") else None


def _match(method: str, path: str, version: str) -> tuple[DcRoute | str, dict[str, str]] | None:
    """The route and its parameters; ``("405", {})`` when only the method is wrong; None: no route."""
    rest_on = has_rest_space_permissions(version)
    allowed = False
    for candidate in ROUTES:
        if candidate.since_91 and not rest_on:
            continue
        hit = candidate.pattern.match(path)
        if hit is None:
            continue
        if candidate.method == method:
            return candidate, hit.groupdict()
        allowed = True
    return ("405", {}) if allowed else None


def _dispatch(
    site: DcSite, request: Request, found: tuple[DcRoute | str, dict[str, str]] | None,
    user: DcUser | None, context: str,
) -> Response:
    if found is None:
        return not_a_route()
    target, params = found
    if not isinstance(target, DcRoute):
        return html(405, "Method Not Allowed")
    try:
        return target.handler(DcCtx(site, request, user, params, f"{request.origin}{context}"))
    except HttpError as failure:
        return error(failure)


def authenticate(state: DcState, request: Request, bad_pat_is_anonymous: bool) -> DcUser | Response | None:
    """Basic ``username:password`` (401 when wrong) or ``Bearer <PAT>``; a PAT that matches nobody runs the
    request as anonymous (CS-98199, knob ``bad_pat_is_anonymous``). No header: anonymous."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            username, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return _unauthorized()
        user = state.user_by_name(username)
        if user is None or not _same(user.password, password):
            return _unauthorized()  # UNVERIFIED body; 401 for a wrong password is the usual Tomcat answer
        return user
    if scheme.lower() == "bearer":
        for user in state.users.values():
            if _same(user.pat, credentials.strip()):
                return user
        return None if bad_pat_is_anonymous else _unauthorized()
    return None


def _unauthorized() -> Response:
    return error(HttpError(401, "Authentication failed", {"WWW-Authenticate": 'Basic realm="Confluence"'}))


def _same(expected: str | None, given: str) -> bool:
    return expected is not None and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


# ------------------------------------------------------------------------------------- rate limiter
def _rate_limit(site: DcSite, user: DcUser | None) -> tuple[Response | None, dict[str, str]]:
    """Per-user token bucket and its headers (RL-DC headers page); blocked users get Limit 0, FillRate 0
    and Retry-After Long.MAX (A.9 #8). Anonymous requests are not limited (UNVERIFIED)."""
    if site.knobs.rate_limit <= 0 or user is None:
        return None, {}
    if user.username in site.knobs.blocked_users:
        headers = {"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "0", "X-RateLimit-FillRate": "0",
                   "X-RateLimit-Interval-Seconds": "1", "Retry-After": BLOCKED_RETRY_AFTER}
        return error(HttpError(429, "Rate limit exceeded", headers)), {}
    limiter = site.limiter_for(user.username)
    assert limiter is not None
    wait = limiter.acquire()
    headers = {
        "X-RateLimit-Limit": str(int(limiter.capacity)),
        "X-RateLimit-Remaining": str(limiter.remaining),
        "X-RateLimit-Interval-Seconds": "1",
        "X-RateLimit-FillRate": str(max(1, int(limiter.rate))),
        "Retry-After": "0" if wait is None else str(max(1, math.ceil(wait))),
    }
    if wait is None:
        return None, headers
    return error(HttpError(429, "Rate limit exceeded", {**headers, "X-RateLimit-Remaining": "0"})), {}


def _with(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response


def _register() -> None:
    # route registrations
    from reconciler.sandbox.datacenter import jsonrpc, members, rest  # noqa: F401, PLC0415


_register()
