"""`reconciler drift` against the in-process demo site: read-only, exit codes, missing spaces, formats."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.flows.drift import run_drift
from reconciler.flows.import_site import run_import
from reconciler.sandbox.transport import open_sandbox_transport
from tests.kit.sites import connection

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 23)


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(REPO / "policies", target)
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sandbox"))
    for name in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN",
                 "ATLASSIAN_ADMIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return target


def test_drift_sends_only_get_requests(policies: Path, tmp_path: Path) -> None:
    transport = open_sandbox_transport("demo", tmp_path / "sandbox")
    site = connection({}, transport=transport, sandbox_dir=tmp_path / "sandbox")
    report = run_drift(policies, site, today=TODAY)
    assert report.has_drift  # the demo site is seeded to differ from the example policy
    methods = {key.split(" ", 1)[0] for key in transport.site.counters}
    assert methods == {"GET"}


def test_import_sends_only_get_requests(tmp_path: Path) -> None:
    transport = open_sandbox_transport("demo", tmp_path / "sandbox")
    site = connection({}, transport=transport, sandbox_dir=tmp_path / "sandbox")
    run_import(tmp_path / "out", site, site="sandbox:demo")
    assert {key.split(" ", 1)[0] for key in transport.site.counters} == {"GET"}


def test_a_policy_space_the_site_does_not_show_is_reported_not_fatal(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (policies / "spaces" / "GONE.yaml").write_text(
        "spaces:\n  GONE:\n    authority: exact\n    assign:\n      group:confluence-administrators: Admin\n",
        encoding="utf-8",
    )
    assert main(["drift", str(policies), "--format", "json", "--no-progress"]) == 2
    items = json.loads(capsys.readouterr().out)["items"]
    gone = [i for i in items if i["space"] == "GONE"]
    assert [(i["kind"], i["detail"], i["source"]) for i in gone] == [
        ("space_missing",
         "the site does not show this space: deleted, or hidden from the account the tool runs as",
         f"{policies / 'spaces' / 'GONE.yaml'}:2"),
    ]


def test_an_invalid_policy_exits_1_without_a_report(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (policies / "spaces" / "ENG.yaml").write_text("spaces:\n  ENG:\n    authority: sideways\n",
                                                    encoding="utf-8")
    assert main(["drift", str(policies), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "spaces.ENG.authority" in captured.err


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_every_format_reports_the_same_drift_and_exit_code(
    policies: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", str(policies), "--format", fmt, "--no-progress"]) == 2
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["drift"] is True
    else:
        assert out.lstrip("# ").startswith("Drift: ")


def test_drift_space_checks_only_that_space_and_reads_no_other(policies: Path, tmp_path: Path) -> None:
    transport = open_sandbox_transport("demo", tmp_path / "sandbox")
    site = connection({}, transport=transport, sandbox_dir=tmp_path / "sandbox")
    whole = run_drift(policies, site, today=TODAY)
    transport.site.reset_counters()
    report = run_drift(policies, site, today=TODAY, spaces=["ENG"])
    assert {item.space for item in report.items} <= {"ENG", ""}  # "": the custom roles ENG assigns
    assert [i for i in whole.items if i.space == "ENG"] == [i for i in report.items if i.space == "ENG"]
    assert report.unmanaged == ()
    assert transport.site.counters["GET /wiki/api/v2/spaces/{id}/role-assignments"] == 1


def test_drift_space_on_a_space_the_policy_does_not_manage_is_one_line(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", str(policies), "--space", "NOPE", "--no-progress"]) == 1
    assert capsys.readouterr().err == (
        "error: --space NOPE: no such space on the site, and the policy does not declare it\n")
