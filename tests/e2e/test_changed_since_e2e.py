"""``reconciler plan --changed-since REF`` through the CLI over real HTTP (the sandbox on loopback): a
changed glob defaults rule on a 2,000-space site reads the site's space list and the matching spaces only,
never every space's assignments; the report names the rule, its selector and the count."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from reconciler import cli
from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.server import start_server
from reconciler.sandbox.site import Site
from tests.kit.sites import connection

pytestmark = pytest.mark.e2e
SPACES = 2000
NAME = f"synthetic:spaces={SPACES},per_space=3,seed=7"
ASSIGNMENTS = "GET /wiki/api/v2/spaces/{id}/role-assignments"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                   check=True, capture_output=True)


def _dump(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _policy(root: Path, eng_role: str) -> None:
    """Two defaults rules over the synthetic site's S00001..S02000 (none declared but S00005): every
    space keeps the tool's account as Admin; ``eng`` gives team-001 ``eng_role`` in S00100..S00189."""
    site = {"url": f"sandbox:{NAME}", "model": "roles", "actor": "svc-reconciler",
            "default_authority": "additive"}
    _dump(root / "site.yaml", {"version": 1, "site": site,
        "safety": {"max_removal_fraction": 0.25, "min_admins_per_space": 0}})
    _dump(root / "people.yaml", {"people": {"svc-reconciler": SVC_ACCOUNT_ID}})
    _dump(root / "defaults.yaml", {"defaults": [
        {"name": "admins", "spaces": {"keys": ["*"]}, "assign": {"user:svc-reconciler": "Admin"}},
        {"name": "eng", "spaces": {"keys": ["S001*"], "exclude": ["S0019*"]},
         "assign": {"group:team-001": eng_role}}]})
    _dump(root / "spaces" / "S00005.yaml", {"spaces": {"S00005": {"assign": {"group:team-002": "Viewer"}}}})


@pytest.fixture
def served() -> tuple[Site, dict[str, str]]:
    site = Site(seed_state(NAME))
    admin = site.state.users[SVC_ACCOUNT_ID]
    return site, {"CONFLUENCE_EMAIL": admin.email, "CONFLUENCE_API_TOKEN": admin.api_token}


def test_a_changed_glob_rule_plans_its_90_spaces_of_2000_reading_only_them_and_the_list_pages(
    tmp_path: Path, served: tuple[Site, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    site, credentials = served
    policies = tmp_path / "policies"
    _policy(policies, "Viewer")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "policies")
    _git(tmp_path, "commit", "-q", "-m", "base")
    _policy(policies, "Collaborator")
    server = start_server(site)
    try:
        env = {"CONFLUENCE_URL": server.url, **credentials}
        code = cli.main(["plan", str(policies), "--changed-since", "HEAD", "--no-progress",
                         "--format", "json"], connection=connection(env))
        scoped = dict(site.counters)
        site.reset_counters()
        whole_code = cli.main(["plan", str(policies), "--no-progress", "--format", "json"],
                              connection=connection(env))
        whole = dict(site.counters)
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert (code, whole_code) == (0, 0)
    eng = [f"S{n:05d}" for n in range(100, 190)]
    assert f'"planned 90 spaces changed since HEAD: {", ".join(eng)}"' in out
    assert "\"defaults rule 'eng' changed: 90 spaces matching S001* except S0019*\"" in out
    # the scoped plan: the list pages (2,000 spaces, 250 a page) and the 90 spaces' assignments, no more
    assert scoped[ASSIGNMENTS] == 90
    assert scoped["GET /wiki/api/v2/spaces"] == 8
    assert {route.split()[0] for route in scoped} == {"GET"}
    assert whole[ASSIGNMENTS] == SPACES
    site_wide = sum(n for route, n in scoped.items() if route != ASSIGNMENTS)
    assert site_wide == sum(n for route, n in whole.items() if route != ASSIGNMENTS)
    assert sum(scoped.values()) == site_wide + 90
