"""``--out -`` means standard output wherever a command has ``--out`` (import, which writes a directory,
refuses it in one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.flows.connect import Connection
from reconciler.plan.planfile import load_plan


def test_plan_out_dash_puts_the_plan_file_on_stdout_and_the_report_on_stderr(
    demo_policy: Path, demo_connection: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["plan", str(demo_policy), "--out", "-", "--no-progress"], connection=demo_connection)
    out, err = capsys.readouterr()
    assert code in (0, 1)
    plan = load_plan(out)
    assert plan.changes
    assert err.startswith("Plan: ")
    assert not Path("-").exists()


def test_plan_out_dash_with_format_json_prints_the_json_once(
    demo_policy: Path, demo_connection: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["plan", str(demo_policy), "--out", "-", "--format", "json", "--no-progress"],
         connection=demo_connection)
    out, err = capsys.readouterr()
    assert json.loads(out)["format_version"]
    assert "Plan" not in err


def test_schema_out_dash_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["$schema"]


def test_access_out_dash_prints_the_report(
    demo_policy: Path, demo_connection: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access", str(demo_policy), "--out", "-", "--format", "csv", "--no-progress"],
                connection=demo_connection) == 0
    assert capsys.readouterr().out.count("\n") > 1
    assert not Path("-").exists()


def test_import_out_dash_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--out", "-", "--site", "sandbox:demo"]) == 1
    assert capsys.readouterr().err == (
        "error: import --out -: import writes a directory of policy files; give a directory\n")
