"""Plan reports: golden files compared byte for byte, the PR-comment size cap, colour only when asked.

Regenerate the golden files on purpose, then review the diff:
``RECONCILER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/report``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import UsageError
from reconciler.plan.changes import ChangeKind, GrantChange
from reconciler.plan.plan import Plan
from reconciler.plan.planfile import load_plan
from reconciler.report.plan_render import MARKDOWN_LIMIT, render_plan
from tests.report.scenarios import SCENARIOS, demo, huge

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RECONCILER_UPDATE_GOLDEN") == "1"
EXTENSIONS = {"text": "txt", "markdown": "md", "json": "json"}


@pytest.mark.parametrize("fmt", EXTENSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_report_matches_golden_file(scenario: str, fmt: str) -> None:
    make: Callable[[], Plan] = SCENARIOS[scenario]
    rendered = render_plan(make(), fmt)
    path = GOLDEN / f"{scenario}.{EXTENSIONS[fmt]}"
    if UPDATE:
        path.write_text(rendered, encoding="utf-8", newline="")
    assert rendered == path.read_bytes().decode("utf-8")


def test_text_report_leads_with_the_summary_line() -> None:
    first = render_plan(demo(), "text").splitlines()[0]
    assert first == (
        "Plan: 2 to assign, 1 to change, 2 to remove, 1 to grant, 1 to revoke in 4 spaces; 1 custom role to "
        "create; 1 custom role to update; 1 custom role to delete; 1 data security policy to create; "
        "1 data security policy to delete; 1 data security change loosens a control"
    )


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in render_plan(demo(), "text")
    coloured = render_plan(demo(), "text", color=True)
    assert "\x1b[32m+ Release Manager" in coloured
    assert "\x1b[31m- class:anonymous-users" in coloured


def test_json_report_is_the_plan_file() -> None:
    assert load_plan(render_plan(demo(), "json")) == demo()


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as exc:
        render_plan(demo(), "yaml")
    assert str(exc.value) == "unknown format 'yaml'; choose one of text, markdown, json"


def test_markdown_of_100k_changes_fits_lists_removals_first_and_says_what_was_left_out() -> None:
    text = render_plan(huge(2_000, 50), "markdown")
    assert len(text) < MARKDOWN_LIMIT
    assert text.index("#### Access that will be removed") < text.index("#### Changes per space")
    assert "more removal(s) left out to stay under GitHub's comment limit; the full plan is the JSON" in text
    assert (
        "_Details of 2000 more space(s) (100000 change(s)) left out to stay under GitHub's comment limit; "
        "the full plan is the JSON artifact._"
    ) in text


def test_markdown_keeps_space_details_when_removals_are_few() -> None:
    text = render_plan(huge(150, 4), "markdown")
    assert len(text) < MARKDOWN_LIMIT
    assert "more removal(s) left out" not in text
    assert "<details><summary><code>S00000</code> (exact): 2 to assign, 2 to remove</summary>" in text
    assert "_Details of 77 more space(s) (308 change(s)) left out" in text


def test_markdown_escapes_table_cells() -> None:
    from dataclasses import replace

    from reconciler.model import Principal, PrincipalKind

    plan = demo()
    odd = replace(plan.changes[3], principal=Principal(PrincipalKind.GROUP, "a|b<c>"))
    text = render_plan(replace(plan, changes=(odd,)), "markdown")
    # a name holding "<" is escaped text, not a code span (which would show "&lt;" as typed)
    assert "| group:a\\|b&lt;c> |" in text


def test_text_shows_a_single_read_space_revoke_on_one_line() -> None:
    from reconciler.model import Authority, Principal, PrincipalKind
    from reconciler.plan.plan import PlannedSpace

    temps = Principal(PrincipalKind.GROUP, "temps")
    revoke = GrantChange(ChangeKind.REVOKE, "OPS", temps, permission="read/space", permission_id=78,
                    reason="not in policy; space is exact")
    plan = Plan("sandbox:legacy", "PRE_ROLES", "sha256:" + "ab" * 32, "sha256:" + "cd" * 32,
                (PlannedSpace("OPS", "1", Authority.EXACT, None),), (revoke,), live_assignments=3)
    for color in (False, True):
        text = render_plan(plan, "text", color=color).replace("\x1b[31m", "").replace("\x1b[0m", "")
        text = text.replace("\x1b[1m", "")
        assert text == (
            "Plan: 0 to assign, 0 to change, 0 to remove, 1 to revoke in 1 space\n"
            "\n"
            "Site sandbox:legacy (PRE_ROLES), policy sha256:abababababab, live state sha256:cdcdcdcdcdcd\n"
            "\n"
            "OPS (exact):\n"
            "  - group:temps  read/space  not in policy; space is exact\n"
        )


def test_a_role_replacing_individual_permissions_is_a_change_and_lost_access_is_listed_as_removed() -> None:
    from tests.report.scenarios import transition

    text = render_plan(transition(), "text")
    assert ("  ~ group:ops          custom access -> Viewer        replaces individual permissions "
            "administer/space, create/page, read/space; loses administer/space, create/page "
            "(policies/spaces/OPS.yaml:6)\n") in text
    markdown = render_plan(transition(), "markdown")
    start, end = markdown.index("#### Access that will be removed"), markdown.index("#### Changes per space")
    removed = markdown[start:end]
    assert removed.splitlines()[4:6] == [
        ("| `OPS` | `group:ops` | custom access -> Viewer | `policies/spaces/OPS.yaml:6` (replaces "
         "individual permissions administer/space, create/page, read/space; loses administer/space, "
         "create/page) |"),
        "| `OPS` | `group:temps` | read/space | not in policy; space is exact |",
    ]
