"""The apply report renders to checked-in golden files (text, Markdown, JSON), byte for byte.

Regenerate on purpose with ``UPDATE_GOLDEN=1 pytest tests/apply/test_report.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.apply import ApplyResult, ChangeResult, NotConverged, Status
from reconciler.apply.execute import CONFIRMED
from reconciler.errors import UsageError
from reconciler.model import RoleDef
from reconciler.plan.changes import AssignmentChange, ChangeKind, GrantChange, RoleChange
from reconciler.report.apply_render import render_apply
from tests.apply.fakes import group, user

GOLDEN = Path(__file__).parent / "golden"
REVIEWER = RoleDef("Reviewer", "Reads and comments", frozenset({"read/space", "create/comment"}))


def mixed_result() -> ApplyResult:
    create = RoleChange(REVIEWER)
    assign = AssignmentChange(space="ENG", principal=group("eng-leads"), role="Admin")
    change = AssignmentChange(space="HR", principal=group("hr"), role="Manager", old_role="Viewer")
    ghost = AssignmentChange(space="ENG", principal=group("ghosts"), role="Viewer")
    skipped = AssignmentChange(space="LEGAL", principal=user("5b10"), role="Reviewer")
    grant = GrantChange(ChangeKind.GRANT, space="OPS", principal=group("contractors"),
                        permission="read/space")
    revoke = GrantChange(ChangeKind.REVOKE, space="OPS", principal=group("old"), permission="create/page",
                         permission_id=7)
    return ApplyResult(
        site="sandbox:demo",
        mode="ROLES_TRANSITION",
        results=(
            ChangeResult(create, Status.DONE),
            ChangeResult(assign, Status.DONE),
            ChangeResult(ghost, Status.FAILED,
                         "POST /wiki/api/v2/spaces/1/role-assignments (space ENG): 400: invalid principal"),
            ChangeResult(change, Status.DONE, CONFIRMED),
            ChangeResult(skipped, Status.SKIPPED, "skipped: creating role 'Reviewer' failed"),
            ChangeResult(grant, Status.DONE),
            ChangeResult(revoke, Status.DONE, "already revoked"),
        ),
        not_converged=(NotConverged("HR", (change,)),),
        writes=6,
        writes_by_space={"(site)": 1, "ENG": 2, "HR": 1, "OPS": 2},
    )


def complete_result() -> ApplyResult:
    assign = AssignmentChange(space="ENG", principal=group("eng-leads"), role="Admin")
    return ApplyResult(site="sandbox:demo", mode="ROLES", results=(ChangeResult(assign, Status.DONE),),
                       writes=1, writes_by_space={"ENG": 1})


CASES = {
    "mixed": mixed_result,
    "complete": complete_result,
    "empty": lambda: ApplyResult(site="sandbox:demo", mode="ROLES", results=()),
}
SUFFIX = {"text": "txt", "markdown": "md", "json": "json"}


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_apply_report_matches_golden(case: str, fmt: str) -> None:
    rendered = render_apply(CASES[case](), fmt)
    path = GOLDEN / f"{case}.{SUFFIX[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as exc:
        render_apply(complete_result(), "html")
    assert str(exc.value) == "unknown format 'html': choose one of text, markdown, json"


def test_markdown_table_cells_escape_pipes_and_line_breaks() -> None:
    ghost = AssignmentChange(space="ENG", principal=group("ghosts"), role="Viewer")
    result = ApplyResult(site="sandbox:demo", mode="ROLES",
                         results=(ChangeResult(ghost, Status.FAILED, "400: bad | worse\nsecond line"),))
    # the line break is shown, escaped ("\\n" renders as \n): it can neither end the row nor start a line
    assert "| `+` | ENG group:ghosts: Viewer | 400: bad \\| worse\\\\nsecond line |\n" in render_apply(
        result, "markdown")
