"""A plan's API calls: one read per managed space on a roles site, plus list pages and site-wide reads."""

from __future__ import annotations

from pathlib import Path

from reconciler.flows.plan import run_plan
from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.server import start_server
from reconciler.sandbox.site import Site
from reconciler.sandbox.synthetic_policy import write_synthetic_policy
from tests.kit.sites import connection


def test_plan_reads_each_managed_space_once_and_sends_only_gets(tmp_path: Path) -> None:
    drift = write_synthetic_policy(tmp_path / "policies", 300, 5, 3)
    site = Site(seed_state(drift.site_url.removeprefix("sandbox:")))
    admin = site.state.users[SVC_ACCOUNT_ID]
    server = start_server(site)
    try:
        env = {"CONFLUENCE_URL": server.url, "CONFLUENCE_EMAIL": admin.email,
               "CONFLUENCE_API_TOKEN": admin.api_token}
        _, _, plan = run_plan(tmp_path / "policies", connection(env))
    finally:
        server.stop()
    counters = site.counters
    per_space = sum(n for route, n in counters.items() if "{id}" in route)
    assert {route.split()[0] for route in counters} == {"GET"}
    assert counters["GET /wiki/api/v2/spaces/{id}/role-assignments"] == 300
    assert per_space / 300 <= 1.05
    # site-wide reads + 2 pages of 250 spaces + accounts (11 users: one user/bulk) + the caller (user/current)
    assert sum(counters.values()) - per_space <= 4 + 2 + 2
    assert len(plan.changes) == drift.changes
