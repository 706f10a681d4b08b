"""The drift report's text, Markdown and JSON, compared byte for byte with golden files.

Regenerate on purpose (and review the diff) with ``UPDATE_GOLDEN=1 pytest tests/drift/test_render.py``.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from reconciler.drift.classify import detect_drift
from reconciler.drift.findings import DriftReport
from reconciler.errors import UsageError
from reconciler.model import Authority, RoleMode
from reconciler.report.drift_render import render_drift, render_markdown

from .builders import desired, live, space

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 11, 23)


def scenario() -> DriftReport:
    """One of each: added, removed, role changed, unknown, custom access, missing, acknowledged, expired."""
    policy = desired(
        space("ENG", {"group:engineering": "Collaborator", "user:alice": "Manager",
                      "group:eng-leads": "Admin"}),
        space("OPS", {"group:ops": "Admin"}),
        space("PUBLIC", {"class:anonymous-users": "Viewer"}, authority=Authority.ADDITIVE),
        space("GONE", {"group:ops": "Viewer"}),
        ignore=(("OPS", "group:temps", date(2027, 1, 31)), ("ENG", "user:bob", date(2026, 11, 1)),
                ("PUBLIC", "group:old", date(2027, 1, 1))),
    )
    site = live(
        {
            "ENG": {"group:engineering": "Admin", "group:eng-leads": "Admin", "group:contractors": "Viewer",
                    "user:bob": "Viewer", "user:5b10ac8d82e05b22cc7d4eff": "Viewer"},
            "OPS": {"group:ops": "Admin", "group:temps": "Collaborator"},
            "PUBLIC": {"class:anonymous-users": "Viewer", "group:marketing": "Collaborator"},
        },
        grants={"OPS": {"group:writers": frozenset({"read/space", "create/page"}),
                        "group:editors": frozenset({"read/space", "create/page"})}},
        mode=RoleMode.ROLES_TRANSITION,
        missing=("GONE",),
        unmanaged=("TEAM", "~bob"),
    )
    return detect_drift(policy, site, today=TODAY)


def clean_report() -> DriftReport:
    policy = desired(space("ENG", {"group:engineering": "Collaborator"}))
    return detect_drift(policy, live({"ENG": {"group:engineering": "Collaborator"}}), today=TODAY)


@pytest.mark.parametrize(
    ("name", "build", "fmt"),
    [
        ("drift.txt", scenario, "text"),
        ("drift.md", scenario, "markdown"),
        ("drift.json", scenario, "json"),
        ("clean.txt", clean_report, "text"),
        ("clean.md", clean_report, "markdown"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_report_matches_golden(name: str, build: object, fmt: str) -> None:
    text = render_drift(build(), fmt)  # type: ignore[operator]
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_json_summary_counts_acknowledged_and_expired_separately() -> None:
    data = json.loads(render_drift(scenario(), "json"))
    assert data["drift"] is True
    assert data["summary"] == {
        "differences": 8,
        "by_kind": {"added": 2, "removed": 1, "role_changed": 1, "unknown_principal": 1, "custom_access": 2,
                    "space_missing": 1},
        "acknowledged": 1,
        "expired": 1,
        "managed_spaces": 3,
        "unmanaged_spaces": 2,
    }
    assert [u["key"] for u in data["unmanaged"]] == ["TEAM", "~bob"]


def test_markdown_leaves_items_out_to_stay_under_the_issue_limit() -> None:
    report = scenario()
    full = render_markdown(report)
    cut = render_markdown(report, limit=len(full) - 1)
    assert len(cut) < len(full)
    assert ("more differences of this kind are not shown to fit an issue; "
            "the JSON report (`--format json`) has them all") in cut


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format 'html'; choose one of text, markdown, json"):
        render_drift(clean_report(), "html")


def test_a_very_large_report_stays_under_the_issue_limit_and_says_what_was_left_out() -> None:
    policy = desired(space("BIG", {}))
    site = live({"BIG": {f"group:team-{n:05d}": "Viewer" for n in range(3000)}})
    report = detect_drift(policy, site, today=TODAY)
    text = render_markdown(report)
    assert len(text) <= 60_000
    shown = text.count("| `BIG` | `group:team-")
    assert 0 < shown < 3000
    assert f"_{3000 - shown} more differences of this kind are not shown to fit an issue" in text
    assert text.startswith("### Drift: 3000 differences in 1 place (3000 added outside the policy)")
