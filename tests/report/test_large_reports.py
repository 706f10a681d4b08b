"""Reports of large plans: the removal count in the first lines whatever the size, notes and findings
grouped by kind (never one line per space), everything under GitHub's limit with what was left out named.

Golden files: ``tests/report/golden/site_{10,200,2000}.{md,txt}``; regenerate on purpose with
``RECONCILER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/report`` and review the diff.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.plan.plan import SafetyCheck, SafetyFinding
from reconciler.report.group import group_findings, group_notes
from reconciler.report.plan_render import MARKDOWN_BODY_LIMIT, render_plan
from reconciler.report.plan_view import build_view
from tests.report.sites import site_plan

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RECONCILER_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("fmt", ["markdown", "text"])
@pytest.mark.parametrize("changes", [10, 200, 2000])
def test_site_plan_matches_golden_file(changes: int, fmt: str) -> None:
    rendered = render_plan(site_plan(changes), fmt)
    path = GOLDEN / f"site_{changes}.{'md' if fmt == 'markdown' else 'txt'}"
    if UPDATE:
        path.write_text(rendered, encoding="utf-8", newline="")
    assert rendered == path.read_bytes().decode("utf-8")


def _removals(plan_changes: int, spaces: int) -> tuple[str, int]:
    plan = site_plan(plan_changes, spaces=spaces)
    removed = sum(1 for c in plan.changes if c.kind.name == "UNASSIGN")
    return render_plan(plan, "markdown"), removed


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spaces=st.integers(1, 10_000), drift=st.floats(0.0, 0.3))
@example(spaces=5_000, drift=0.05)
@example(spaces=10_000, drift=0.05)
@example(spaces=10_000, drift=0.3)
def test_markdown_states_the_removal_count_first_and_fits_at_any_size(spaces: int, drift: float) -> None:
    text, removed = _removals(round(spaces * 20 * drift), spaces)
    assert len(text) < MARKDOWN_BODY_LIMIT
    head = text.splitlines()[:5]
    if removed:
        assert head[4].startswith(f"**Removes access: {removed} role assignment")
        rows = [ln for ln in text.splitlines() if ln.startswith("| `S") and ln.endswith("space is exact |")]
        assert rows, "at least the first removals are always shown"
        left = re.search(r"_(\d+) more removal\(s\) left out", text)
        assert len(rows) + (int(left.group(1)) if left else 0) == removed
    else:
        assert head[4] == "**Nothing will be removed.**"
    # notes and findings are one line per kind, never one per space
    assert len(re.findall(r"^_Note: ", text, re.M)) <= 3
    assert len(re.findall(r"^> - ", text, re.M)) <= 3


def test_10000_spaces_keep_every_unsafe_reason_and_removals_first_and_name_what_was_left_out() -> None:
    plan = site_plan(10_000, spaces=10_000)
    text = render_plan(plan, "markdown")
    lines = text.splitlines()
    assert len(text) < MARKDOWN_BODY_LIMIT
    short = [f.space for f in plan.findings]
    assert len(short) > 50
    caution = lines.index("> [!CAUTION]")
    assert lines[caution + 2] == (
        f"> - {len(short)} spaces would be left with fewer admins than safety.min_admins_per_space besides "
        f"the actor: {', '.join(short[:6])}, … (all {len(short)} in the JSON plan); first: "
        f"{plan.findings[0].message}"
    )
    assert lines.index("#### Access that will be removed") == caution + 4
    left_out = lines[6]
    assert re.fullmatch(
        r"_This comment leaves out (\d+) removal\(s\), (\d+) per-space detail\(s\) to stay under GitHub's "
        r"comment limit; the plan.json artifact has the whole plan._", left_out
    ), left_out


def test_text_plan_has_no_repeated_per_space_note_lines() -> None:
    plan = site_plan(2000)
    text = render_plan(plan, "text")
    notes = [ln for ln in text.splitlines() if ln.startswith("Note: ")]
    assert len(plan.notes) > 200
    first = ", ".join(n.split(":")[0].removeprefix("space ") for n in plan.notes[:6])
    assert notes == [
        (f"Note: {len(plan.notes)} spaces: 0 admin(s) besides the actor, fewer than "
         f"safety.min_admins_per_space 1; the plan does not reduce them, so this does not block it: "
         f"{first}, … (all {len(plan.notes)} in the JSON plan)")
    ]
    findings = [ln for ln in text.splitlines() if ln.startswith("  ! ")]
    assert len(findings) == 1


def test_a_few_findings_of_a_kind_are_shown_one_by_one() -> None:
    findings = [SafetyFinding(SafetyCheck.ACTOR_ADMIN, f"space K{i}: the actor would not hold Admin", f"K{i}")
                for i in range(3)]
    assert group_findings(findings) == tuple(f.message for f in findings)


def test_findings_of_one_check_in_many_spaces_make_one_line_with_the_first_spaces() -> None:
    findings = [SafetyFinding(SafetyCheck.PROTECTED, f"space K{i // 2}: the plan would remove x{i}",
                              f"K{i // 2}")
                for i in range(20)]
    assert group_findings(findings) == (
        ("20 changes would remove or downgrade the actor or a protected principal in 10 spaces: K0, K1, K2, "
         "K3, K4, K5, … (all 10 in the JSON plan); first: space K0: the plan would remove x0"),
    )


def test_notes_saying_different_things_stay_apart_and_other_notes_keep_their_order() -> None:
    notes = ["app access policies not planned"]
    notes += [f"space A{i}: 0 admin(s) besides the actor" for i in range(5)]
    notes += [f"space B{i}: 1 admin(s) besides the actor" for i in range(2)]
    assert group_notes(notes) == (
        "app access policies not planned",
        "5 spaces: 0 admin(s) besides the actor: A0, A1, A2, A3, A4",
        "space B0: 1 admin(s) besides the actor",
        "space B1: 1 admin(s) besides the actor",
    )


def test_a_note_naming_every_space_of_a_large_site_is_cut_and_says_so() -> None:
    note = "role assignments not planned in " + ", ".join(f"S{i:05d}" for i in range(10_000))
    (line,) = group_notes([note])
    assert len(line) < 700
    assert line.endswith(" … (cut; the JSON plan has it whole)")


def test_removal_line_counts_each_kind() -> None:
    from tests.report.scenarios import demo

    assert build_view(demo()).removes == (
        "Removes access: 2 role assignments, 1 permission, 1 custom role, 1 data security change loosening a "
        "control in 3 spaces; listed first below."
    )


def test_site_plan_builder_spreads_changes_and_kinds() -> None:
    plan = site_plan(2000)
    kinds = Counter(c.kind.name for c in plan.changes)
    assert set(kinds) == {"ASSIGN", "REASSIGN", "UNASSIGN"}
    assert len({c.space for c in plan.changes}) > 1000
