"""`reconciler validate`: exit codes and the text, json and github formats."""
# ruff: noqa: E501 - policy fixtures and expected messages read best on one line

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main

from .conftest import write_policy

BAD_ENG = "spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n      group:eng: Colaborator\n"
ROLE_ERROR = "p/spaces/ENG.yaml:5:18: spaces.ENG.assign: unknown role 'Colaborator' (did you mean 'Collaborator'?)"


def test_the_example_policies_validate_clean(monkeypatch_repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "policies"]) == 0
    out, err = capsys.readouterr()
    assert out == "policies: valid (7 spaces, 2 defaults rules, 11 people, 2 custom roles)\n"
    assert err == ""


def test_text_format_prints_one_line_per_problem_and_exits_1(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_policy(in_tmp / "p", {"spaces/ENG.yaml": BAD_ENG, "empty.yaml": ""})
    assert main(["validate", "p"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["p/empty.yaml:1:1: warning: empty file", ROLE_ERROR]


def test_warnings_alone_exit_0(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_policy(in_tmp / "p", {"empty.yaml": ""})
    assert main(["validate", "p"]) == 0
    out, err = capsys.readouterr()
    assert err == "p/empty.yaml:1:1: warning: empty file\n"
    assert out.startswith("p: valid (")


def test_json_format_is_a_list_of_problem_objects(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_policy(in_tmp / "p", {"spaces/ENG.yaml": BAD_ENG})
    assert main(["validate", "p", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == [{
        "file": "p/spaces/ENG.yaml", "line": 5, "column": 18, "severity": "error",
        "path": "spaces.ENG.assign", "message": "unknown role 'Colaborator' (did you mean 'Collaborator'?)",
        "text": ROLE_ERROR,
    }]


def test_json_format_of_a_valid_policy_is_an_empty_list(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_policy(in_tmp / "p", {})
    assert main(["validate", "p", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_github_format_prints_annotations_on_the_right_lines(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_policy(in_tmp / "p", {"spaces/ENG.yaml": BAD_ENG, "empty.yaml": ""})
    assert main(["validate", "p", "--format", "github"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "::warning file=p/empty.yaml,line=1,col=1::empty file",
        "::error file=p/spaces/ENG.yaml,line=5,col=18::spaces.ENG.assign: unknown role 'Colaborator' (did you mean 'Collaborator'?)",
    ]


def test_github_format_escapes_commas_colons_and_newlines_in_properties(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_policy(in_tmp / "p,x", {"roles.yaml": "roles:\n  R: {permissions: [read/spcae]}\n"})
    assert main(["validate", "p,x", "--format", "github"]) == 1
    assert capsys.readouterr().out == (
        "::error file=p%2Cx/roles.yaml,line=2,col=21::roles.R.permissions[0]: unknown permission "
        "'read/spcae' (did you mean 'read/space'?)\n"
    )


def test_a_missing_policy_directory_is_a_one_line_usage_error(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "nowhere"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: policy directory 'nowhere' does not exist\n")


def test_an_unknown_format_is_a_usage_error(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "p", "--format", "xml"])
    assert exc.value.code == 1
    assert "invalid choice: 'xml'" in capsys.readouterr().err
