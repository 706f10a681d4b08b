"""``plan --changed-since REF``: only the spaces whose effective policy differs from the policy at REF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler import cli
from reconciler.flows.connect import Connection
from reconciler.flows.plan import run_plan
from reconciler.plan.changes import AppPolicyChange
from reconciler.policy.changed import changed_scope
from reconciler.policy.loader import load_policy
from reconciler.sandbox.datacenter import DcSite
from reconciler.sandbox.datacenter import handle as dc_handle
from reconciler.sandbox.datacenter.seeds import seed_state as dc_seed_state
from reconciler.sandbox.transport import SandboxTransport

DC_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dc-demo"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                   check=True, capture_output=True)


@pytest.fixture
def repo(demo_policy: Path) -> Path:
    """A git repository whose first commit (tagged ``base``) holds the demo policy in policies/."""
    root = demo_policy.parent
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "policies")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "tag", "base")
    return demo_policy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_one_space_change_plans_only_that_space_and_says_so(
    repo: Path, demo_connection: Connection
) -> None:
    _edit(repo / "spaces/HR.yaml", "group:hr: Manager", "group:hr: Collaborator")
    _, _, plan = run_plan(repo, demo_connection, changed_since="base")
    assert [space.key for space in plan.spaces] == ["HR"]
    assert "planned 1 space changed since base: HR" in plan.notes


def test_a_custom_role_change_reaches_every_space_that_assigns_it(
    repo: Path, demo_connection: Connection
) -> None:
    _edit(repo / "roles.yaml", "permissions: [read/space, create/comment, export/space]",
          "permissions: [read/space, create/comment]")
    users = sorted(p.stem for p in (repo / "spaces").glob("*.yaml") if "Legal Reviewer" in p.read_text())
    assert users
    _, _, plan = run_plan(repo, demo_connection, changed_since="base")
    assert [space.key for space in plan.spaces] == users
    assert f"planned {len(users)} space{'s' * (len(users) > 1)} changed since base: {', '.join(users)}" \
        in plan.notes


def test_a_defaults_rule_with_a_glob_plans_the_spaces_it_matches_on_the_site(
    repo: Path, demo_connection: Connection
) -> None:
    """staff-can-read matches every global space but ~*, HR, FIN and LEGAL: declared or not (MKT, SALES,
    SANDBOX have no entry), the site's space list says which; the plan is the whole plan's in them."""
    _edit(repo / "defaults.yaml", "group:all-staff: Viewer", "group:all-staff: Collaborator")
    _, _, whole = run_plan(repo, demo_connection)
    _, _, plan = run_plan(repo, demo_connection, changed_since="base")
    keys = ["DOCS", "ENG", "MKT", "OPS", "PUBLIC", "SALES", "SANDBOX"]
    assert [s.key for s in plan.spaces] == keys
    assert [n for n in plan.notes if "since base" in n or "defaults rule" in n] == [
        f"planned 7 spaces changed since base: {', '.join(keys)}",
        ("defaults rule 'staff-can-read' changed: 7 spaces matching * except ~*, HR, FIN, LEGAL "
         "(global, collaboration)")]
    in_spaces = [c for c in whole.changes if getattr(c, "space", None) in keys]
    assert in_spaces
    assert [c for c in plan.changes if getattr(c, "space", None)] == in_spaces


def test_a_backend_that_cannot_list_its_spaces_plans_the_whole_policy_and_says_why(
    repo: Path, demo_connection: Connection
) -> None:
    _edit(repo / "defaults.yaml", "group:all-staff: Viewer", "group:all-staff: Collaborator")

    class NoList:
        """The demo site's backend without ``list_spaces`` (a backend the contract does not require it of)."""

        def __init__(self, backend: Any) -> None:
            self._backend = backend

        def __getattr__(self, name: str) -> Any:
            if name == "list_spaces":
                raise AttributeError(name)
            return getattr(self._backend, name)

    class Unlisted(Connection):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            return NoList(demo_connection.open(*args, **kwargs))

    _, _, whole = run_plan(repo, demo_connection)
    _, _, plan = run_plan(repo, Unlisted({}), changed_since="base")
    assert [s.key for s in plan.spaces] == [s.key for s in whole.spaces]
    assert ("planned the whole policy: defaults rule 'staff-can-read' changed and this site's backend cannot "
            "list its spaces to resolve the defaults selectors since base") in plan.notes


def test_on_data_center_a_new_glob_rule_reads_the_space_list_once_and_only_the_spaces_it_reaches(
    tmp_path: Path
) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(DC_EXAMPLE, policy)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "policy")
    _git(tmp_path, "commit", "-q", "-m", "base")
    with (policy / "site.yaml").open("a", encoding="utf-8") as site_file:
        site_file.write("  - name: personal spaces\n    spaces: {keys: [\"~*\"]}\n    assign:\n"
                        "      user:svc-reconciler: Viewer\n")
    dc = DcSite(dc_seed_state("dc-demo"))
    _, _, plan = run_plan(policy, Connection({}, transport=SandboxTransport(dc, handler=dc_handle)),
                          changed_since="HEAD")
    assert [s.key for s in plan.spaces] == ["~alice"]
    assert "defaults rule 'personal spaces' added: 1 space matching ~*" in plan.notes
    reads = {route: n for route, n in dc.counters.items() if route.startswith("GET /rest/api/space")}
    # one listing (the read reuses it), then ~alice's two permission reads (subjects, anonymous)
    assert reads == {"GET /rest/api/space": 1, "GET /rest/api/space/{spaceKey}/permissions": 1,
                     "GET /rest/api/space/{spaceKey}/permissions/anonymous": 1}


def test_moving_entries_and_comments_changes_nothing_and_the_site_is_not_read(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(repo / "spaces/HR.yaml", "spaces:\n", "# reordered\nspaces:\n\n")
    opened: list[str] = []

    class Refuses(Connection):
        def open(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            opened.append("open")
            raise AssertionError("the site was read")

    code = cli.main(["plan", str(repo), "--changed-since", "base"], connection=Refuses({}))
    out = capsys.readouterr().out
    assert code == 0
    assert opened == []
    assert "planned 0 spaces: no space's effective policy changed since base" in out


def test_a_literal_defaults_selector_reaches_only_its_declared_spaces(repo: Path) -> None:
    before = load_policy(repo)
    _edit(repo / "defaults.yaml", "  - name: staff-can-read",
          "  - name: finance-audit\n    spaces: {keys: [FIN, HR]}\n    assign:\n"
          "      group:all-staff: Viewer\n  - name: staff-can-read")
    scope = changed_scope(before, load_policy(repo))
    assert (scope.keys, scope.whole) == (("FIN", "HR"), "")


def test_a_safety_change_is_the_whole_policy(repo: Path) -> None:
    before = load_policy(repo)
    _edit(repo / "site.yaml", "max_removal_fraction: 0.25", "max_removal_fraction: 0.2")
    assert changed_scope(before, load_policy(repo)).whole == "safety changed"


def test_an_unknown_ref_is_one_line_and_exit_1(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["plan", str(repo), "--changed-since", "no-such-ref"], connection=Connection({}))
    err = capsys.readouterr().err
    assert code == 1
    assert err == (f"error: --changed-since no-such-ref: not a commit in {repo.parent.resolve()} "
                   "(fetch it first, e.g. `git fetch origin main`)\n")


def test_a_saved_changed_since_plan_is_applied_as_reviewed(
    repo: Path, sandbox_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply recomputes a saved plan and compares it whole: the scope notes (from git, not from the policy
    or the site) are carried over, so the reviewed plan is applied, not refused as different."""
    _edit(repo / "defaults.yaml", "group:all-staff: Viewer", "group:all-staff: Collaborator")
    monkeypatch.chdir(repo.parent)  # CI runs both from the repository's root
    saved = repo.parent / "plan.json"
    assert cli.main(["plan", str(repo), "--changed-since", "base", "--out", str(saved), "--no-progress"],
                    connection=Connection({}, sandbox_dir=sandbox_dir)) == 0
    capsys.readouterr()
    code = cli.main(["apply", str(saved), "--auto-approve", "--no-progress"],
                    connection=Connection({}, sandbox_dir=sandbox_dir))
    err = capsys.readouterr().err
    assert (code, err) == (0, ""), err
    _, _, again = run_plan(repo, Connection({}, sandbox_dir=sandbox_dir), changed_since="base")
    assert [c for c in again.changes if getattr(c, "space", None)] == []


def test_a_whole_policy_changed_since_plan_plans_data_security_as_the_whole_plan_does(
    repo: Path, demo_connection: Connection
) -> None:
    _edit(repo / "site.yaml", "max_removal_fraction: 0.25", "max_removal_fraction: 0.5")
    _, _, whole = run_plan(repo, demo_connection)
    _, _, plan = run_plan(repo, demo_connection, changed_since="base")
    assert "planned the whole policy: safety changed since base" in plan.notes
    apps = [c for c in whole.changes if isinstance(c, AppPolicyChange)]
    assert apps
    assert plan.changes == whole.changes


def test_a_saved_plan_that_reached_no_space_applies_nothing(
    repo: Path, demo_connection: Connection, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pull request that only moves entries or comments: its reviewed plan (nothing planned, the site not
    read) is applied as nothing, exit 0, rather than refused as stale against a whole-site read."""
    _edit(repo / "spaces/HR.yaml", "spaces:\n", "# reordered\nspaces:\n\n")
    monkeypatch.chdir(repo.parent)  # the checkout, as in CI
    plan_file = repo.parent / "plan.json"
    assert cli.main(["plan", str(repo), "--changed-since", "base", "--out", str(plan_file), "--no-progress"],
                    connection=demo_connection) == 0
    capsys.readouterr()
    code = cli.main(["apply", str(plan_file), "--no-progress"], connection=demo_connection)
    assert (code, *capsys.readouterr()) == (0, (
        "Apply to sandbox:demo (not read): 0 done, 0 failed, 0 skipped, 0 space(s) not converged; "
        "0 write(s)\n\n"
        "Nothing to apply: the site already matches the plan.\n"), "")

