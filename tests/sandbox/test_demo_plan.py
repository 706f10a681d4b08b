"""The example policies/ against the demo site yield the plan docs/sandbox.md promises: real, safe, small."""

from __future__ import annotations

from pathlib import Path

from reconciler.pipeline import run_plan
from reconciler.sandbox import default_admin_api_key

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_example_policy_plans_the_documented_differences(sandbox_state_dir: Path) -> None:
    env = {"ATLASSIAN_ADMIN_API_KEY": default_admin_api_key("demo", sandbox_state_dir)}
    _, _, plan = run_plan(POLICIES, env=env, state_dir=sandbox_state_dir)
    changes = sorted(
        (
            change.kind.name,
            change.space or "",
            change.principal.display if change.principal else "",
            change.role
            or change.permission
            or (change.role_def.name if change.role_def else "")
            or (change.app_policy.name if change.app_policy else "")
            or (change.old_role_def.name if change.old_role_def else "")
            or (change.old_app_policy.name if change.old_app_policy else ""),
        )
        for change in plan.changes
    )
    assert changes == [
        ("ASSIGN", "DOCS", "user:victor", "Viewer"),
        ("ASSIGN", "ENG", "user:alice", "Manager"),
        ("ASSIGN", "ENG", "user:carol", "Release Manager"),
        ("CREATE_APP_POLICY", "", "", "No AI assistants in sales"),
        ("CREATE_ROLE", "", "", "Release Manager"),
        ("DELETE_ROLE", "", "", "Old Auditor"),
        ("GRANT", "OPS", "group:contractors", "create/comment"),
        ("GRANT", "OPS", "group:contractors", "create/page"),
        ("REASSIGN", "ENG", "group:engineering", "Collaborator"),
        ("UNASSIGN", "ENG", "user:bob", ""),
        ("UPDATE_APP_POLICY", "", "", "Confidential spaces"),
        ("UPDATE_ROLE", "", "", "Legal Reviewer"),
    ]
    assert plan.safe
    assert plan.held == ()
