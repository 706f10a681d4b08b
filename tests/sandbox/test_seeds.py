"""Seeds: the demo site matches the example policy's people; synthetic sites and policies are stable."""

from __future__ import annotations

from pathlib import Path

import yaml

from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.site import Site
from reconciler.sandbox.synthetic_policy import SyntheticDrift, write_synthetic_policy

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_demo_site_has_the_documented_shape() -> None:
    state = seed_state("demo+plain")
    assert (state.mode, len(state.spaces), len(state.users), len(state.groups)) == (
        "ROLES_TRANSITION",
        12,
        30,
        11,
    )
    assert sorted(u.email for u in state.users.values() if u.guest) == [
        "gina@acme.example",
        "victor@acme.example",
    ]
    assert sorted(r.name for r in state.roles.values() if r.type == "CUSTOM") == [
        "Legal Reviewer",
        "Old Auditor",
    ]
    assert [(p["attributes"]["name"], p["attributes"]["status"]) for p in state.org_policies.values()] == [
        ("Org-wide default app access", "published"), ("Confidential spaces", "published"),
        ("Org-wide default export", "published"), ("No export of finance", "published"),
        ("No public links", "published"), ("No anonymous access", "published"),
        ("Attachment downloads", "published")]
    assert sorted(s.type for s in state.spaces.values()).count("personal") == 1


def test_demo_people_are_the_policy_people() -> None:
    people = yaml.safe_load((POLICIES / "people.yaml").read_text())["people"]
    state = seed_state("demo")
    for handle, value in people.items():
        account_id = value if isinstance(value, str) else value["account_id"]
        guest = isinstance(value, dict) and value.get("guest", False)
        assert (handle, state.users[account_id].guest) == (handle, guest)
    declared = yaml.safe_load((POLICIES / "data-security.yaml").read_text())
    assert state.org_id == declared["data_security"]["org_id"]


def test_every_demo_space_except_the_personal_one_has_the_actor_as_admin() -> None:
    state = seed_state("demo")
    admin = state.role_by_name("Admin")
    assert admin is not None
    svc = ("USER", "712020:5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
    missing = [
        s.key for s in state.spaces.values() if s.type != "personal" and s.assignments.get(svc) != admin.id
    ]
    assert missing == []


def test_synthetic_sites_are_deterministic() -> None:
    name = "synthetic:spaces=20,per_space=6,seed=3"
    first, again = Site(seed_state(name)).to_json_text(), Site(seed_state(name)).to_json_text()
    assert first == again
    state = seed_state(name)
    assert {len(s.assignments) for s in state.spaces.values()} == {6}
    assert Site(seed_state("synthetic:spaces=20,per_space=6,seed=4")).to_json_text() != first


def _policy_assignments(root: Path) -> dict[str, dict[str, str]]:
    people = yaml.safe_load((root / "people.yaml").read_text())["people"]
    result: dict[str, dict[str, str]] = {}
    for path in sorted((root / "spaces").glob("*.yaml")):
        for key, spec in yaml.safe_load(path.read_text())["spaces"].items():
            result[key] = {}
            for ref, role in spec["assign"].items():
                kind, _, ident = ref.partition(":")
                result[key][f"user:{people[ident]}" if kind == "user" else ref] = role
    return result


def test_synthetic_policy_differs_from_its_site_by_the_reported_drift(tmp_path: Path) -> None:
    drift = write_synthetic_policy(tmp_path, spaces=40, per_space=10, seed=5, drift_fraction=0.05)
    assert drift == SyntheticDrift("sandbox:synthetic:spaces=40,per_space=10,seed=5", 400, 7, 7, 6)
    state = seed_state(drift.site_url.removeprefix("sandbox:"))
    names = {g.id: g.name for g in state.groups.values()}
    live = {
        s.key: {
            (f"user:{p[1]}" if p[0] == "USER" else f"group:{names[p[1]]}"): state.roles[r].name
            for p, r in s.assignments.items()
        }
        for s in state.spaces.values()
    }
    desired = _policy_assignments(tmp_path)
    assign = sum(len(desired[k].keys() - live[k].keys()) for k in live)
    unassign = sum(len(live[k].keys() - desired[k].keys()) for k in live)
    reassign = sum(
        1 for k in live for ref in live[k].keys() & desired[k].keys() if live[k][ref] != desired[k][ref]
    )
    assert (assign, reassign, unassign) == (drift.assign, drift.reassign, drift.unassign)
    site = yaml.safe_load((tmp_path / "site.yaml").read_text())["site"]
    assert (site["url"], site["actor"], site["model"]) == (drift.site_url, "svc-reconciler", "roles")


def test_every_seed_carries_the_live_vocabulary_by_default() -> None:
    for name in ("demo", "synthetic:spaces=2,per_space=3,seed=1"):
        state = seed_state(name)
        assert state.vocabulary == "live"
        assert sum(1 for u in state.users.values() if u.account_type == "app") >= 2
    assert seed_state("demo+plain").vocabulary == "plain"
