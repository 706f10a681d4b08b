"""`reconciler plan` against the in-process demo sandbox: exit codes, --out, --space, unsafe plans."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.flows.plan import run_plan
from reconciler.plan.planfile import load_plan
from tests.kit.sites import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh demo sandbox under tmp_path, and an environment without real credentials."""
    for name in (
        "CONFLUENCE_URL",
        "CONFLUENCE_EMAIL",
        "CONFLUENCE_API_TOKEN",
        "CONFLUENCE_BEARER_TOKEN",
        "ATLASSIAN_ADMIN_API_KEY",
        "CI",
        "NO_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sandbox"))
    return tmp_path


def _policies(tmp_path: Path, **replace: str) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", target)
    site = target / "site.yaml"
    text = site.read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    site.write_text(text, encoding="utf-8")
    return target


def test_plan_exit_codes_follow_terraform(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policies = str(ROOT / "policies")
    assert main(["plan", policies, "--no-progress"]) == 0
    assert main(["plan", policies, "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("Plan: 3 to assign, 1 to change, 1 to remove, 2 to grant in 3 spaces;")


def test_out_saves_the_plan_file_and_stdout_gets_the_chosen_format(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = sandbox / "plan.json"
    assert main(["plan", str(ROOT / "policies"), "--out", str(out), "--format", "markdown"]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("### Reconciler plan for `sandbox:demo`\n")
    plan = load_plan(out.read_text(encoding="utf-8"))
    assert plan.site == "sandbox:demo"
    assert len(plan.changes) == 16
    assert "sandbox-admin-token" not in out.read_text(encoding="utf-8")


def test_space_scope_plans_only_those_spaces(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["plan", str(ROOT / "policies"), "--space", "ENG", "--space", "DOCS,ENG", "--format", "json"])
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert [s["key"] for s in plan["spaces"]] == ["DOCS", "ENG"]
    assert plan["scope"] == ["DOCS", "ENG"]
    assert {c["space"] for c in plan["changes"] if "space" in c} == {"DOCS", "ENG"}
    assert plan["notes"] == [
        ("3 app account(s) left alone (138 permission(s) and assignment(s) in 2 space(s)): installed apps' "
         "users are never changed unless a policy names them"),
        "data security not planned: a --space plan leaves the org-wide controls out",
    ]


def test_unsafe_plan_is_rendered_in_full_then_exits_1(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = _policies(sandbox, **{"max_removal_fraction: 0.25": "max_removal_fraction: 0.01"})
    out = sandbox / "plan.json"
    assert main(["plan", str(policies), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[2:4] == [
        "Unsafe plan: apply refuses it without --allow-unsafe",
        ("  ! the plan removes 1 of 50 live assignments and grants in scope (2%), more than "
        "safety.max_removal_fraction 1% (apply refuses this plan without --allow-unsafe)"),
    ]
    assert "ENG (exact, " in captured.out  # still rendered in full
    assert captured.err == (
        "error: the plan fails 1 safety check(s) (listed at the top of the plan); apply refuses it without "
        "--allow-unsafe\n"
    )
    assert not load_plan(out.read_text(encoding="utf-8")).safe


def test_unknown_space_is_one_line_error(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(ROOT / "policies"), "--space", "NOPE"]) == 1
    assert capsys.readouterr().err == (
        "error: --space NOPE: no such space on the site, and the policy does not declare it\n"
    )


def test_run_plan_returns_desired_live_and_a_checked_plan(sandbox: Path) -> None:
    env = {"RECONCILER_SANDBOX_DIR": str(sandbox / "s")}
    desired, live, plan = run_plan(ROOT / "policies", connection(env))
    assert desired.site.url == "sandbox:demo"
    assert live.data_security is not None
    assert plan.safe
    assert plan.live_assignments == 50
    _, _, again = run_plan(ROOT / "policies", connection(env))
    assert again.fingerprint == plan.fingerprint  # stable across runs: apply's staleness check relies on it
    assert again == plan


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:secret@acme.atlassian.net/?token=x#f", "https://acme.atlassian.net"),
        ("http://127.0.0.1:8089/", "http://127.0.0.1:8089"),
        ("sandbox:demo", "sandbox:demo"),
    ],
    ids=["strips user info and query", "keeps the port", "sandbox as is"],
)
def test_plans_show_the_site_url_without_secrets(url: str, shown: str) -> None:
    assert connection({}).display_url(url) == shown


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("fmt", "tty", "env", "expected"),
    [
        ("text", True, {}, True),
        ("text", False, {}, False),
        ("text", True, {"NO_COLOR": "1"}, False),
        ("markdown", True, {}, False),
    ],
    ids=["text on a terminal", "text in a pipe", "NO_COLOR", "markdown never"],
)
def test_colour_only_for_text_on_a_terminal(fmt: str, tty: bool, env: dict[str, str], expected: bool) -> None:
    from reconciler.commands.terminal import use_color

    assert use_color(fmt, _Stream(tty), env) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tty", "flag", "env", "shown"),
    [
        (True, False, {}, "live"),
        (False, False, {}, "milestones"),
        (True, True, {}, None),
        (True, False, {"CI": "true"}, "milestones"),
        (True, False, {"NO_COLOR": "1"}, "live"),
    ],
    ids=["terminal", "not a terminal", "--no-progress", "CI", "NO_COLOR keeps progress"],
)
def test_progress_is_live_on_a_terminal_outside_ci_milestones_elsewhere_off_with_no_progress(
    monkeypatch: pytest.MonkeyPatch, tty: bool, flag: bool, env: dict[str, str], shown: str | None
) -> None:
    import io
    import sys

    from reconciler.commands.terminal import progress_writer

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stderr", Stream())
    display = progress_writer(flag)
    if shown is None:
        assert display is None
        return
    assert display is not None
    assert display.live is (shown == "live")
    display.close()
