"""Drift's guest reach on the demo site is exact: group members are read, once per group."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from reconciler.flows.drift import run_drift
from reconciler.sandbox.transport import open_sandbox_transport
from tests.kit.sites import connection

REPO = Path(__file__).resolve().parents[2]
MEMBERS = "GET /wiki/rest/api/group/{groupId}/membersByGroupId"


def test_drift_says_exactly_which_spaces_each_guest_reaches_through_groups(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies)
    transport = open_sandbox_transport("demo", tmp_path / "sandbox")
    site = connection({}, transport=transport, sandbox_dir=tmp_path / "sandbox")
    report = run_drift(policies, site, today=date(2026, 11, 23))
    assert report.guest_reach is not None
    reach = {g.handle: g for g in report.guest_reach}
    assert reach["gina"].lines() == [
        "user:gina: 2 space(s)",
        "  DOCS: Viewer directly",
        "  PUBLIC: Viewer through class:anonymous-users",
    ]
    assert reach["victor"].lines() == [  # victor is in contractors; gina is in no group
        "user:victor: 3 space(s)",
        "  OPS: read/space through group:contractors",
        "  PUBLIC: Viewer through class:anonymous-users",
        "  SANDBOX: Collaborator through group:contractors",
    ]
    assert all(p.certain for g in report.guest_reach for p in g.paths)
    # every group holding access in a managed space (all 11 of the demo, one page each), read once
    assert transport.site.counters[MEMBERS] == 11
