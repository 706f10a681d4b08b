"""Request counters by method and path template, in-process and over /_sandbox/counters."""

from __future__ import annotations

import time

from reconciler.sandbox.site import Site
from tests.sandbox.doors import Door


def test_counts_requests_by_method_and_path_template(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    client.get("/wiki/api/v2/spaces")
    client.get("/wiki/api/v2/spaces", params={"cursor": "b2Zmc2V0OjU"})
    client.get("/wiki/api/v2/spaces/1441793/role-assignments")
    client.get("/wiki/api/v2/spaces/1474561/role-assignments")
    before_last = time.time()
    client.delete("/wiki/rest/api/space/OPS/permission/424242")
    expected = {
        "DELETE /wiki/rest/api/space/{spaceKey}/permission/{id}": 1,
        "GET /wiki/api/v2/spaces": 2,
        "GET /wiki/api/v2/spaces/{id}/role-assignments": 2,
    }
    assert sandbox_site.counters == expected
    before = time.time()
    over_http = client.get("/_sandbox/counters").json()
    first_at, last_at = over_http.pop("first_at"), over_http.pop("last_at")
    assert over_http == {"counters": expected, "total": 5, "throttled": 0}
    assert isinstance(first_at, float)
    assert isinstance(last_at, float)
    assert first_at <= before_last <= last_at <= before  # the last counted request: the DELETE, not the look


def test_reset_counters(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    client.get("/wiki/api/v2/space-role-mode")
    assert client.post("/_sandbox/reset-counters").status_code == 204
    assert client.get("/_sandbox/counters").json() == {"counters": {}, "total": 0, "throttled": 0,
                                                       "first_at": None, "last_at": None}
    assert sandbox_site.request_count == 0


def test_admin_api_requests_are_counted_with_ids_templated(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    client.get(f"/admin/control/v2/orgs/{sandbox_site.state.org_id}/policies")
    assert sandbox_site.counters == {"GET /admin/control/v2/orgs/{id}/policies": 1}
