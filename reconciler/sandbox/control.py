"""Out-of-band test endpoints under ``/_sandbox/``: no auth, no faults, not counted.

GET  /_sandbox/counters         {"counters": {"GET /wiki/api/v2/spaces": 3, ...}, "total": 3, "throttled": 0,
                                 "first_at": 1796212345.678, "last_at": 1796212352.012}
                                (time.time() of the first and the last counted request)
POST /_sandbox/reset-counters   204
GET  /_sandbox/knobs            the current knobs
POST /_sandbox/knobs            change some knobs ({"fault_rate": 0.1, ...}); answers the new knobs
POST /_sandbox/role-mode        {"mode": "ROLES"}: switch the site's role mode
GET  /_sandbox/state            the whole state, as persisted
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reconciler.model import RoleMode
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.http import Request, Response

if TYPE_CHECKING:
    from reconciler.sandbox.site import Site


def _error(status: int, message: str) -> Response:
    return Response.json(
        status, {"errors": [{"status": status, "code": "SANDBOX", "title": message, "detail": None}]}
    )


def handle(site: Site, request: Request) -> Response:
    endpoint = _ENDPOINTS.get((request.method, request.path.rstrip("/")))
    if endpoint is None:
        return _error(404, f"No sandbox control endpoint {request.method} {request.path}")
    try:
        return endpoint(site, request)
    except (ValueError, TypeError, AttributeError) as err:
        return _error(400, f"Bad sandbox control request: {err}")


def _counters(site: Site, request: Request) -> Response:
    return Response.json(200, {"counters": site.counters, "total": site.request_count,
                               "throttled": site.throttled, "first_at": site.first_at,
                               "last_at": site.last_at})


def _reset_counters(site: Site, request: Request) -> Response:
    site.reset_counters()
    return Response(204)


def _get_knobs(site: Site, request: Request) -> Response:
    return Response.json(200, site.knobs.describe())


def _set_knobs(site: Site, request: Request) -> Response:
    site.configure(knobs_with(site.knobs, json.loads(request.body or b"{}")))
    return Response.json(200, site.knobs.describe())


def _set_role_mode(site: Site, request: Request) -> Response:
    mode = RoleMode(json.loads(request.body or b"{}").get("mode"))
    with site.writing() as state:
        state.mode = mode.value
    return Response.json(200, {"mode": mode.value})


def _state(site: Site, request: Request) -> Response:
    return Response(200, site.to_json_text().encode(), {"Content-Type": "application/json"})


_ENDPOINTS: dict[tuple[str, str], Callable[[Site, Request], Response]] = {
    ("GET", "/_sandbox/counters"): _counters,
    ("POST", "/_sandbox/reset-counters"): _reset_counters,
    ("GET", "/_sandbox/knobs"): _get_knobs,
    ("POST", "/_sandbox/knobs"): _set_knobs,
    ("POST", "/_sandbox/role-mode"): _set_role_mode,
    ("GET", "/_sandbox/state"): _state,
}


def knobs_with(knobs: Knobs, changes: Any) -> Knobs:
    """A copy of ``knobs`` with the named fields changed (names as in ``Knobs.describe()``)."""
    if not isinstance(changes, dict):
        raise TypeError("expected a JSON object of knob names to values")
    fields = {f.name for f in dataclasses.fields(Knobs)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise ValueError(f"unknown knobs: {', '.join(unknown)}")
    converted = dict(changes)
    for name in ("hidden_spaces", "reshape"):
        if name in converted:
            converted[name] = frozenset(converted[name])
    if "fault_kinds" in converted:
        converted["fault_kinds"] = tuple(converted["fault_kinds"])
    return dataclasses.replace(knobs, **converted)
