"""`apply POLICY_DIR` shows the plan `reconciler plan` would show: same changes, notes and findings."""

from __future__ import annotations

from pathlib import Path

from reconciler.flows.plan import run_plan
from tests.apply.sandbox_helpers import copy_policies, env_for, open_session
from tests.kit.sites import connection


def test_apply_plans_with_the_same_notes_and_findings_as_plan(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    site_file = policies / "site.yaml"
    site_file.write_text(site_file.read_text().replace("min_admins_per_space: 1", "min_admins_per_space: 2"))
    # validate requires 2 admins besides the actor in exact spaces (the demo has 1): additive spaces are
    # not checked offline, and the plan notes the spaces short of admins
    for path in [policies / "legacy.yaml", *(policies / "spaces").glob("*.yaml")]:
        path.write_text(path.read_text().replace("authority: exact", "authority: additive"))
    state_dir = tmp_path / "sandbox"

    session, _site = open_session(policies, state_dir)
    try:
        _live, applied = session.plan()
    finally:
        session.connection.close()
    _desired, _live2, planned = run_plan(policies, connection(env_for(state_dir), sandbox_dir=state_dir))

    assert any("fewer than safety.min_admins_per_space 2" in note for note in planned.notes)
    assert applied.notes == planned.notes
    assert applied.findings == planned.findings
    assert applied.changes == planned.changes
    assert applied.fingerprint == planned.fingerprint
