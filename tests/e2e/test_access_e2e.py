"""End to end over real HTTP: an access review before and after `reconciler apply` on the demo site diffs to
exactly the people the apply changed, and the review after the apply shows no drift per person."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from reconciler.review import person_ref
from reconciler.sandbox.demo_data import DEMO_PEOPLE
from reconciler.sandbox.spawn import spawned_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
POLICIES = str(ROOT / "policies")


def ref(handle: str) -> str:
    return person_ref(DEMO_PEOPLE[handle][0])


# What the demo apply changes, person by person (tests/e2e/test_plan_e2e.py EXPECTED is the plan):
# - ENG group:engineering Viewer -> Collaborator: the engineering members who are neither eng-leads
#   (Admin already) nor bob (Collaborator directly; his direct assignment goes, his permissions stay);
# - DOCS user:victor -> Viewer (victor is a guest, in no group that reaches DOCS);
# - LEGAL: the Legal Reviewer role gains export/space: dave holds it;
# - OPS group:contractors gains create/comment and create/page: mallory and quinn already comment
#   (all-staff Viewer), victor (a guest, not staff) gains both.
# alice's Manager and carol's Release Manager in ENG change nothing: both are Admin through eng-leads.
EXPECTED = {
    **{("ENG", ref(h)): ("changed", ["create/attachment", "create/blogpost", "create/page", "delete/space"])
       for h in ("kim", "liam", "niaj", "olivia", "peggy", "rupert")},
    ("DOCS", ref("victor")): ("gained", ["create/comment", "read/space"]),
    ("LEGAL", ref("dave")): ("changed", ["export/space"]),
    ("OPS", ref("mallory")): ("changed", ["create/page"]),
    ("OPS", ref("quinn")): ("changed", ["create/page"]),
    ("OPS", ref("victor")): ("changed", ["create/comment", "create/page"]),
}


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    with spawned_server(cwd=ROOT, stop_timeout=10) as env:
        yield env


def _env(served: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "ATLASSIAN_"))}
    env.update({k: served[k] for k in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN")})
    env.update(ATLASSIAN_ADMIN_API_KEY=served["ATLASSIAN_ADMIN_API_KEY"],
               ATLASSIAN_ADMIN_URL=served["CONFLUENCE_URL"])
    return env


def _run(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "reconciler", *args], env=dict(env), cwd=ROOT,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_reviews_before_and_after_apply_diff_to_exactly_the_people_it_changed(
    served: dict[str, str], tmp_path: Path
) -> None:
    env = _env(served)
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    _run(env, "access", POLICIES, "--format", "json", "--out", str(before), "--no-progress")
    _run(env, "apply", POLICIES, "--auto-approve", "--no-progress")
    _run(env, "access", POLICIES, "--format", "json", "--out", str(after), "--no-progress")
    diff = json.loads(_run(env, "access", "--diff", str(before), str(after), "--format", "json").stdout)
    changes = {(c["space"], c["ref"]): c for c in diff["changes"]}
    assert set(changes) == set(EXPECTED)
    for key, (kind, added) in EXPECTED.items():
        change = changes[key]
        assert change["kind"] == kind
        assert sorted(set(change["after"]) - set(change["before"])) == added
        assert set(change["before"]) <= set(change["after"])  # the demo apply takes nobody's access away
    # what the review said differed from the policy, person by person, is exactly what the apply changed
    old = json.loads(before.read_text(encoding="utf-8"))
    assert {(s["key"], d["person"]) for s in old["spaces"] for d in s["drift"]} == set(EXPECTED)
    new = json.loads(after.read_text(encoding="utf-8"))
    assert [d for s in new["spaces"] for d in s["drift"]] == []
    text = _run(env, "access", "--diff", str(before), str(after)).stdout
    assert text.splitlines()[1] == ("10 people changed: 1 gained, 0 lost, 10 changed access (space, person) "
                                    "pairs")
