"""The drift issue body of a large site: grouped by what changed, access gained first (Admin above all),
one revert remedy per kind, display names beside account ids, under the issue limit.

Golden files ``tests/drift/golden/site_{10,200,2000}.md``; regenerate on purpose with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/drift/test_large_drift.py`` and review the diff.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
from datetime import date
from pathlib import Path

import pytest

from reconciler.drift.classify import detect_drift
from reconciler.drift.findings import DriftReport
from reconciler.report.drift_render import MARKDOWN_LIMIT, render_markdown

from .builders import desired, live, space

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 11, 23)
ROLES = ("Viewer", "Collaborator", "Manager", "Admin")


def site_drift(differences: int, seed: int = 1) -> DriftReport:
    """A site of ``differences`` spaces with 20 assignments each and one difference per space on average:
    a third added on the site, a third removed, a third with another role."""
    rng = random.Random(seed)
    keys = [f"S{i:05d}" for i in range(1, max(1, differences) + 1)]
    policy: dict[str, dict[str, str]] = {}
    for key in keys:
        policy[key] = {f"user:5b10ac8d82e05b22cc7d{n:04x}": rng.choice(ROLES) for n in range(20)}
    site = {key: dict(assign) for key, assign in policy.items()}
    for n in range(differences):
        key = keys[rng.randrange(len(keys))]
        if n % 3 == 0:
            site[key][f"group:team-{n:04d}"] = rng.choice(ROLES)
        elif n % 3 == 1:
            ref = rng.choice(sorted(site[key]))
            site[key][ref] = ROLES[(ROLES.index(site[key][ref]) + 1) % len(ROLES)]
        else:
            site[key].pop(rng.choice(sorted(site[key])), None)
    report = detect_drift(desired(*(space(k, a) for k, a in policy.items())), live(site), today=TODAY)
    names = {ref.split(":")[1]: f"Person {ref[-4:]}" for assign in site.values() for ref in assign
             if ref.startswith("user:")}
    return dataclasses.replace(report, names=names)


@pytest.mark.parametrize("differences", [10, 200, 2000])
def test_large_drift_body_matches_golden_file(differences: int) -> None:
    text = render_markdown(site_drift(differences))
    path = GOLDEN / f"site_{differences}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_200_differences_read_as_a_few_sections_access_gained_first_admin_above_all() -> None:
    report = site_drift(200)
    text = render_markdown(report)
    assert len(text) < MARKDOWN_LIMIT
    headings = re.findall(r"^#### (.+)$", text, re.M)
    assert [h.rsplit(" (", 1)[0] for h in headings] == [
        "Access added on the site, outside the policy",
        "Roles changed on the site",
        "Access removed on the site, outside the policy",
    ]
    # one revert per kind, not per difference
    assert text.count("reconciler apply policies") == 4  # "Revert all" + one per section
    added = text[text.index("#### Access added"):text.index("#### Roles changed")]
    rows = [ln for ln in added.splitlines() if ln.startswith("| `S")]
    site_roles = [re.search(r"\| \*?\*?(\w+)\*?\*? \| in ", row).group(1) for row in rows]  # type: ignore[union-attr]
    assert site_roles == sorted(site_roles, key=lambda r: -ROLES.index(r))
    assert site_roles[0] == "Admin"
    assert "| **Admin** |" in rows[0]
    # display names beside the account ids
    changed = text[text.index("#### Roles changed"):text.index("#### Access removed")]
    first = next(ln for ln in changed.splitlines() if ln.startswith("| `S"))
    named = r"\| `user:5b10ac8d82e05b22cc7d([0-9a-f]{4})` \(Person \1\) \| \*\*\w+ -> Admin\*\* \|"
    assert re.search(named, first)


def test_2000_differences_fit_an_issue_and_every_section_says_what_it_left_out() -> None:
    text = render_markdown(site_drift(2000))
    assert len(text) < MARKDOWN_LIMIT
    left = re.findall(r"^_(\d+) more differences of this kind are not shown to fit an issue", text, re.M)
    sections = re.findall(r"^#### .+ \((\d+)\)$", text, re.M)
    rows = [len(re.findall(r"^\| `S", part, re.M)) for part in re.split(r"^#### ", text, flags=re.M)[1:]]
    assert len(left) == len(sections) == 3
    assert [r + int(n) for r, n in zip(rows, left, strict=True)] == [int(s) for s in sections]
    assert all(r >= 10 for r in rows), "every kind keeps its first rows"
