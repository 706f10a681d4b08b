"""Test endpoints of the DC sandbox under ``/_sandbox/`` (no auth, no faults, not recorded).

GET  /_sandbox/counters        {"counters": {"GET /rest/api/space": 1, ...}, "total": N}
GET  /_sandbox/requests        {"requests": [["GET", "/confluence/rest/api/space"], ...]}
POST /_sandbox/reset-counters  204 (counters and request log)
GET  /_sandbox/knobs, POST /_sandbox/knobs {"non_admin_status": 403, ...}
POST /_sandbox/settings        {"version": "8.9.0", "remote_api_enabled": true, "websudo": false,
                                "anonymous_access": true}: the site's own settings (persisted)
GET  /_sandbox/state           the persisted JSON
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reconciler.sandbox.http import Request, Response

if TYPE_CHECKING:
    from reconciler.sandbox.datacenter.site import DcSite

SETTINGS = ("version", "remote_api_enabled", "websudo", "anonymous_access")


def handle(site: DcSite, request: Request) -> Response:
    endpoint = _ENDPOINTS.get((request.method, request.path.rstrip("/")))
    if endpoint is None:
        return Response.json(404, {"message": f"No sandbox control endpoint {request.method} {request.path}"})
    try:
        return endpoint(site, request)
    except (ValueError, TypeError, AttributeError) as err:
        return Response.json(400, {"message": f"Bad sandbox control request: {err}"})


def knobs_with(site: DcSite, changes: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(site.knobs)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ValueError(f"unknown knob(s): {', '.join(unknown)}")
    values = dict(changes)
    if "blocked_users" in values:
        values["blocked_users"] = frozenset(values["blocked_users"])
    if "fault_kinds" in values:
        values["fault_kinds"] = tuple(values["fault_kinds"])
    return dataclasses.replace(site.knobs, **values)


def apply_settings(site: DcSite, changes: dict[str, Any]) -> None:
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
    with site.writing() as state:
        for name, value in changes.items():
            setattr(state, name, str(value) if name == "version" else bool(value))


def _settings(site: DcSite, request: Request) -> Response:
    apply_settings(site, json.loads(request.body or b"{}"))
    return Response(204)


def _set_knobs(site: DcSite, request: Request) -> Response:
    site.configure(knobs_with(site, json.loads(request.body or b"{}")))
    return Response.json(200, site.describe_knobs())


def _reset(site: DcSite, request: Request) -> Response:
    site.reset_counters()
    return Response(204)


_ENDPOINTS: dict[tuple[str, str], Callable[[DcSite, Request], Response]] = {
    ("GET", "/_sandbox/counters"): lambda s, r: Response.json(200, {"counters": s.counters,
                                                                     "total": s.request_count}),
    ("GET", "/_sandbox/requests"): lambda s, r: Response.json(
        200, {"requests": [list(x) for x in s.requests]}),
    ("POST", "/_sandbox/reset-counters"): _reset,
    ("GET", "/_sandbox/knobs"): lambda s, r: Response.json(200, s.describe_knobs()),
    ("POST", "/_sandbox/knobs"): _set_knobs,
    ("POST", "/_sandbox/settings"): _settings,
    ("GET", "/_sandbox/state"): lambda s, r: Response(200, s.to_json_text().encode(),
                                                      {"Content-Type": "application/json"}),
}
