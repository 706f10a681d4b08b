"""The example policies/ against the demo site yield the plan docs/sandbox.md promises: real, safe, small."""

from __future__ import annotations

from pathlib import Path

from reconciler.flows.plan import run_plan
from reconciler.plan.changes import AppPolicyChange, Change, GrantChange, RoleChange
from reconciler.sandbox import default_admin_api_key
from tests.kit.sites import connection

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_example_policy_plans_the_documented_differences(sandbox_state_dir: Path) -> None:
    env = {"ATLASSIAN_ADMIN_API_KEY": default_admin_api_key("demo", sandbox_state_dir)}
    _, _, plan = run_plan(POLICIES, connection(env, sandbox_dir=sandbox_state_dir))
    changes = sorted(_row(change) for change in plan.changes)
    assert changes == [
        ("ASSIGN", "DOCS", "user:victor", "Viewer"),
        ("ASSIGN", "ENG", "user:alice", "Manager"),
        ("ASSIGN", "ENG", "user:carol", "Release Manager"),
        ("CREATE_APP_POLICY", "", "", "anonymousAccess CONTAINER"),
        ("CREATE_APP_POLICY", "", "", "appAccess CONTAINER"),
        ("CREATE_APP_POLICY", "", "", "appAccess ORG"),
        ("CREATE_APP_POLICY", "", "", "attachmentDownload CONTAINER"),
        ("CREATE_APP_POLICY", "", "", "publicLinks CONTAINER"),
        ("CREATE_ROLE", "", "", "Release Manager"),
        ("DELETE_ROLE", "", "", "Old Auditor"),
        ("GRANT", "OPS", "group:contractors", "create/comment"),
        ("GRANT", "OPS", "group:contractors", "create/page"),
        ("REASSIGN", "ENG", "group:engineering", "Collaborator"),
        ("UNASSIGN", "ENG", "user:bob", ""),
        ("UPDATE_APP_POLICY", "", "", "appAccess CONTAINER"),
        ("UPDATE_ROLE", "", "", "Legal Reviewer"),
    ]
    assert plan.safe
    assert plan.held == ()


def _row(change: Change) -> tuple[str, str, str, str]:
    if isinstance(change, RoleChange):
        return change.kind.name, "", "", change.name
    if isinstance(change, AppPolicyChange):
        return change.kind.name, "", "", f"{change.policy.rule} {change.policy.coverage}"
    what = change.permission if isinstance(change, GrantChange) else change.role or ""
    return change.kind.name, change.space, change.principal.display, what
