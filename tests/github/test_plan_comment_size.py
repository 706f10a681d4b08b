"""A plan of 5,000 changes still makes one PR comment under GitHub's limit, summary and removals first."""

from __future__ import annotations

import re
from pathlib import Path

from reconciler.model import Authority, Principal, PrincipalKind, Source
from reconciler.plan.changes import AssignmentChange, Change, ordered
from reconciler.plan.plan import Plan, PlannedSpace
from reconciler.report.plan_render import render_plan
from reconciler.report.plan_view import build_view
from tests.github.test_workflow_scripts import PLAN_BODY_STEP
from tests.github.workflows import run_step, runner_env, step, step_env, workflow

SPACES = 50
PER_SPACE = 100  # 40 removals, 40 additions, 20 role changes: 5,000 changes in all


def _space_changes(index: int) -> list[Change]:
    key = f"S{index:03d}"
    source = Source(f"policies/spaces/{key}.yaml", 4)
    changes = []
    for n in range(PER_SPACE):
        group = Principal(PrincipalKind.GROUP, f"team-{index:03d}-{n:03d}")
        if n < 40:
            changes.append(AssignmentChange(space=key, principal=group, old_role="Collaborator",
                                            reason="not in policy; space is exact"))
        elif n < 80:
            changes.append(AssignmentChange(space=key, principal=group, role="Viewer",
                                            source=source))
        else:
            changes.append(AssignmentChange(space=key, principal=group, role="Manager",
                                            old_role="Viewer", source=source))
    return changes


def _big_plan() -> Plan:
    changes = [change for index in range(SPACES) for change in _space_changes(index)]
    spaces = tuple(
        PlannedSpace(f"S{i:03d}", str(1000 + i), Authority.EXACT, Source(f"policies/spaces/S{i:03d}.yaml", 3))
        for i in range(SPACES)
    )
    return Plan(
        site="https://acme.atlassian.net", mode="ROLES", policy_digest="a" * 64, fingerprint="f" * 64,
        spaces=spaces, changes=ordered(changes), live_assignments=20_000,
    )


def test_5000_changes_fit_one_comment_that_leads_with_the_summary_and_removals(tmp_path: Path) -> None:
    plan = _big_plan()
    assert len(plan.changes) == 5000
    (tmp_path / "plan.md").write_text(render_plan(plan, "markdown"), encoding="utf-8")
    doc_step = step(workflow("policy-plan.yml"), *PLAN_BODY_STEP[1:])
    values = {"PLAN_EXIT_CODE": "0", "HEAD_SHA": "0123456789abcdef", "RUN_URL": "https://example.invalid/run"}
    result = run_step(doc_step["run"], cwd=tmp_path, env=runner_env(tmp_path, step_env(doc_step, values)))
    assert result.returncode == 0, result.stderr

    comment = (tmp_path / "plan-comment.md").read_text(encoding="utf-8")
    assert len(comment) < 65_535
    assert "Cut to fit a comment" not in comment, "the renderer fits the plan; the workflow never cuts it"
    lines = comment.splitlines()
    assert lines[:4] == [
        "<!-- reconciler-plan -->",
        "### Reconciler plan for `https://acme.atlassian.net`",
        "",
        f"**{build_view(plan).summary}**",
    ]
    removals_at = lines.index("#### Access that will be removed")
    assert removals_at < lines.index("#### Changes per space")
    removal_rows = [ln for ln in lines[removals_at:] if ln.startswith("| `S")]
    assert removal_rows[0].startswith("| `S000` | `group:team-000-000` |")
    left_out = re.search(r"(\d+) more removal", comment)
    assert left_out is not None
    assert len(removal_rows) + int(left_out.group(1)) == 2000
    assert lines[-1] == "<sub>Plan of 0123456789ab · [job log and plan.json artifact](https://example.invalid/run)</sub>"
