"""`reconciler apply` end to end in-process: saved plans, prompts, approval, refusals, guards."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.plan import safety
from reconciler.plan.planfile import dump_plan
from reconciler.sandbox.site import Site
from reconciler.sandbox.store import open_site
from reconciler.sandbox.transport import SandboxTransport, open_sandbox_transport
from tests.apply.sandbox_helpers import SITE, copy_policies, env_for, fresh_plan, summary, writes
from tests.kit.sites import connection


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    return copy_policies(tmp_path)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "sandbox"


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch, state_dir: Path, tmp_path: Path) -> SandboxTransport:
    """The demo site the commands talk to, in a clean environment and without a terminal on stdin."""
    for name in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env_for(state_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return open_sandbox_transport(SITE, state_dir)


@pytest.fixture
def site(transport: SandboxTransport) -> Site:
    """The demo site, with its request counters readable here."""
    return transport.site


Cli = Callable[[list[str]], int]


@pytest.fixture
def cli(transport: SandboxTransport) -> Cli:
    """``reconciler ARGS`` through a connection to ``transport`` (the environment's settings otherwise)."""
    return lambda argv: main(argv, connection=connection(dict(os.environ), transport=transport))


def save_plan(policies: Path, state_dir: Path, tmp_path: Path) -> Path:
    _live, plan = fresh_plan(policies, state_dir)
    path = tmp_path / "plan.json"
    path.write_text(dump_plan(plan), encoding="utf-8")
    return path


def test_policy_dir_without_a_terminal_needs_auto_approve_and_writes_nothing(
    site: Site, cli: Cli, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["apply", str(policies)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: stdin is not a terminal, so apply cannot ask for confirmation: pass --auto-approve to apply "
        "without asking; nothing was written\n"
    )
    assert writes(site) == {}
    assert site.request_count > 0


def test_policy_dir_with_auto_approve_applies_and_the_next_plan_is_empty(
    site: Site, cli: Cli, policies: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["apply", str(policies), "--auto-approve", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["summary"]["failed"] == 0
    assert report["summary"]["done"] == len(report["done"]) > 0
    assert summary(fresh_plan(policies, state_dir)[1]) == []
    assert cli(["apply", str(policies), "--auto-approve"]) == 0
    assert capsys.readouterr().out.endswith("Nothing to apply: the site already matches the plan.\n")


def test_prompt_accepts_only_yes(
    site: Site, cli: Cli, policies: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert cli(["apply", str(policies)]) == 1
    err = capsys.readouterr().err
    assert "Apply these 16 changes? Only 'yes' is accepted: " in err
    assert err.endswith("Apply cancelled; nothing was written.\n")
    assert writes(site) == {}

    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    assert cli(["apply", str(policies)]) == 0
    assert capsys.readouterr().out.endswith("Apply complete: every change is written and verified.\n")


def test_saved_plan_is_applied_exactly(
    cli: Cli, policies: Path, state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = save_plan(policies, state_dir, tmp_path)
    assert cli(["apply", str(plan_file), "--policy-dir", str(policies)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Apply to sandbox:demo (ROLES_TRANSITION): 16 done, 0 failed, 0 skipped")
    assert summary(fresh_plan(policies, state_dir)[1]) == []


def test_stale_saved_plan_is_refused_and_nothing_is_written(  # noqa: PLR0917 - pytest fixtures
    site: Site, cli: Cli, policies: Path, state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = save_plan(policies, state_dir, tmp_path)
    other = open_site(SITE, state_dir)  # someone changes the site after the plan was made
    with other.writing() as state:
        state.mode = "ROLES"
    site.reset_counters()
    assert cli(["apply", str(plan_file), "--policy-dir", str(policies)]) == 4  # stale: its own exit code
    assert capsys.readouterr().err == (
        "error: the live state changed since this plan was made (what changed: role mode ROLES_TRANSITION -> "
        "ROLES; spaces OPS; principals group:contractors); run `reconciler plan` again\n"
    )
    assert writes(site) == {}


def test_saved_plan_made_from_another_policy_is_refused(  # noqa: PLR0917 - pytest fixtures
    site: Site, cli: Cli, policies: Path, state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = save_plan(policies, state_dir, tmp_path)
    with (policies / "spaces" / "HR.yaml").open("a", encoding="utf-8") as fh:
        fh.write("# reviewed again\n")
    assert cli(["apply", str(plan_file), "--policy-dir", str(policies)]) == 4  # stale: its own exit code
    assert capsys.readouterr().err == (
        "error: the policy changed since this plan was made; run `reconciler plan` again\n"
    )
    assert writes(site) == {}


def test_actor_and_protected_principals_are_never_removed(
    cli: Cli, policies: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eng = policies / "spaces" / "ENG.yaml"
    eng.write_text(
        eng.read_text(encoding="utf-8").replace(
            "      class:anonymous-users: none\n",
            "      class:anonymous-users: none\n      user:svc-reconciler: none\n"
            "      group:confluence-administrators: Viewer\n",
        ),
        encoding="utf-8",
    )
    assert cli(["apply", str(policies), "--auto-approve", "--allow-unsafe"]) == 0
    capsys.readouterr()
    live, _plan = fresh_plan(policies, state_dir)
    eng_live = {p.ref: role for p, role in live.spaces["ENG"].assignments.items()}
    assert eng_live["user:712020:5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"] == "Admin"
    assert eng_live["group:confluence-administrators"] == "Admin"


def test_neither_a_plan_file_nor_a_directory_is_a_usage_error(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["apply", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'nowhere'}: neither a plan file (.json) nor a policy directory\n"
    )


def test_unsafe_plan_is_refused_naming_allow_unsafe_and_applied_with_it(
    site: Site, cli: Cli, policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = policies / "site.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "max_removal_fraction: 0.25", "max_removal_fraction: 0.0"), encoding="utf-8")
    assert cli(["apply", str(policies), "--auto-approve"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: the plan fails 1 safety check(s); nothing was written (pass --allow-unsafe to apply it "
        "anyway):\n  - the plan removes 1 of "
    )
    assert writes(site) == {}
    assert cli(["apply", str(policies), "--auto-approve", "--allow-unsafe"]) == 0


def test_plan_saved_by_the_plan_command_is_applied_and_the_next_plan_exits_0(
    cli: Cli, policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    assert cli(["plan", str(policies), "--out", str(plan_file), "--no-progress"]) == 0
    capsys.readouterr()
    assert cli(["apply", str(plan_file), "--policy-dir", str(policies), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["summary"]["done"], report["summary"]["failed"]) == (True, 16, 0)
    assert cli(["plan", str(policies), "--detailed-exitcode"]) == 0


def test_typo_group_in_an_exact_space_applied_unsafely_removes_nobody_in_that_space(
    site: Site, cli: Cli, policies: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eng = policies / "spaces" / "ENG.yaml"
    eng.write_text(eng.read_text(encoding="utf-8").replace(
        "group:engineering: Collaborator", "group:engineerng: Collaborator"), encoding="utf-8")
    before, _plan = fresh_plan(policies, state_dir)
    assert cli(["apply", str(policies), "--auto-approve", "--allow-unsafe", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(e["summary"], e["reason"]) for e in report["failed"]] == [
        ("ENG group:engineerng: Collaborator", "group 'engineerng' was not found on the site"),
    ]
    held = "not removed: an addition in this space failed, so removals wait for a clean run"
    assert [(e["summary"], e["reason"]) for e in report["skipped"]] == [
        ("ENG group:engineering: Viewer removed", held),
        ("ENG user:bob: Collaborator removed", held),
    ]
    after, _plan = fresh_plan(policies, state_dir)
    eng_before = {p.display: role for p, role in before.spaces["ENG"].assignments.items()}
    eng_after = {p.display: role for p, role in after.spaces["ENG"].assignments.items()}
    assert (eng_before["group:engineering"], eng_before["user:bob"]) == ("Viewer", "Collaborator")
    assert {who: role for who, role in eng_after.items() if who in eng_before} == eng_before
    assert sorted(set(eng_after) - set(eng_before)) == ["user:alice", "user:carol"]


def test_a_plan_file_with_an_app_policy_change_missing_its_id_is_refused_before_any_write(
    cli: Cli, policies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    assert cli(["plan", str(policies), "--out", str(plan_file), "--no-progress"]) == 0
    capsys.readouterr()
    saved = json.loads(plan_file.read_text(encoding="utf-8"))
    [update] = [c for c in saved["changes"] if c["kind"] == "update_app_policy"]
    index = saved["changes"].index(update)
    update["old_app_policy"]["id"] = None
    plan_file.write_text(json.dumps(saved), encoding="utf-8")
    assert cli(["apply", str(plan_file), "--policy-dir", str(policies), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "error: the saved plan is not the plan the policy and the live site give, so it was not applied "
        f"(first difference: changes[{index}].old_app_policy.id: null in the saved plan, ")
    assert cli(["plan", str(policies), "--format", "json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"] == saved["fingerprint"]  # nothing written


def test_safety_is_assessed_once_per_live_read(
    site: Site, policies: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assessed: list[int] = []
    findings = safety._Assessor.findings

    def counted(self: Any) -> Any:
        assessed.append(len(self.changes))
        return findings(self)

    monkeypatch.setattr(safety._Assessor, "findings", counted)
    assert main(["apply", str(policies), "--auto-approve"]) == 0
    assert assessed == [16]  # planned and applied on one read: assessed once (it was three times)
    assessed.clear()
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(policies), "--out", str(plan_file), "--no-progress"]) == 0
    assert main(["apply", str(plan_file), "--policy-dir", str(policies)]) == 0
    assert assessed == [0, 0]  # the plan's read, then apply's re-read of the saved plan's scope
    capsys.readouterr()


def test_space_applies_only_that_space_of_a_policy_dir(
    site: Site, cli: Cli, policies: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {line.split()[1] for line in summary(fresh_plan(policies, state_dir)[1]) if " " in line}
    assert "ENG" in before
    assert len(before) > 1
    assert cli(["apply", str(policies), "--space", "ENG", "--auto-approve", "--no-progress"]) == 0
    after = {line.split()[1] for line in summary(fresh_plan(policies, state_dir)[1]) if " " in line}
    assert after == before - {"ENG"}


def test_space_with_a_saved_plan_is_a_usage_error(
    cli: Cli, policies: Path, state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_plan(policies, state_dir, tmp_path)
    assert cli(["apply", str(path), "--policy-dir", str(policies), "--space", "ENG"]) == 1
    assert capsys.readouterr().err == (
        "error: --space applies to a policy directory; a saved plan keeps the scope it was made with "
        "(make it with `reconciler plan --space ... --out`)\n"
    )
