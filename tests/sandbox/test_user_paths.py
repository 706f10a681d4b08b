"""User-supplied paths (RECONCILER_SANDBOX_DIR, --state-dir, import/plan --out) fail in one line, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main

POLICIES = str(Path(__file__).resolve().parents[2] / "policies")
CREDENTIALS = ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN")
NOT_A_DIR = "set RECONCILER_SANDBOX_DIR (or --state-dir) to a writable directory"


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_sandbox_dir_that_is_a_file_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", "afile")
    assert _run(["plan", POLICIES, "--no-progress"], capsys) == (
        1, "", f"error: sandbox directory 'afile' is not a directory; {NOT_A_DIR}\n"
    )


def test_a_sandbox_dir_below_a_file_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", "afile/sub")
    assert _run(["plan", POLICIES, "--no-progress"], capsys) == (
        1, "", f"error: sandbox directory 'afile/sub': cannot write demo.json: Not a directory; {NOT_A_DIR}\n"
    )


def test_a_sandbox_site_file_that_is_not_a_site_names_the_reset_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sb").mkdir()
    (tmp_path / "sb" / "demo.json").write_text('{"x": 1}', encoding="utf-8")
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", "sb")
    assert _run(["plan", POLICIES, "--no-progress"], capsys) == (
        1, "", ("error: sandbox site file 'sb/demo.json': not a saved sandbox site; run `reconciler sandbox "
                "reset demo` to recreate it from its seed\n")
    )
    assert _run(["sandbox", "reset", "demo"], capsys) == (
        0, "reset sandbox 'demo' from its seed (sb/demo.json)\n", ""
    )


def test_an_unknown_sandbox_seed_in_the_site_url_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONFLUENCE_URL", "sandbox:prod")
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", "sb")
    assert _run(["plan", POLICIES, "--no-progress"], capsys) == (
        1, "", ("error: unknown sandbox seed 'prod': expected 'demo' or "
                "'synthetic:spaces=N,per_space=M,seed=S' (optionally followed by +live or +plain)\n")
    )


def test_sandbox_reset_and_show_use_the_sandbox_dir_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", "elsewhere")
    assert _run(["sandbox", "reset", "demo"], capsys) == (
        0, "reset sandbox 'demo' from its seed (elsewhere/demo.json)\n", ""
    )
    assert (tmp_path / "elsewhere" / "demo.json").is_file()
    assert not (tmp_path / ".reconciler").exists()
    code, out, _err = _run(["sandbox", "show", "demo"], capsys)
    assert (code, out.splitlines()[0]) == (0, "sandbox site 'demo'")
    assert _run(["sandbox", "reset", "demo", "--state-dir", "flag"], capsys) == (
        0, "reset sandbox 'demo' from its seed (flag/demo.json)\n", ""
    )


def test_sandbox_show_on_a_state_dir_that_is_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert _run(["sandbox", "show", "demo", "--state-dir", "afile"], capsys) == (
        1, "", f"error: sandbox directory 'afile' is not a directory; {NOT_A_DIR}\n"
    )


def test_import_into_a_path_below_a_file_is_a_usage_error_before_reading_the_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert _run(["import", "--out", "afile/x", "--site", "sandbox:demo", "--no-progress"], capsys) == (
        1, "", "error: --out afile/x: cannot create the directory: Not a directory\n"
    )
    assert not (tmp_path / ".reconciler").exists()


def test_plan_out_to_a_directory_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", "sb")
    (tmp_path / "plans").mkdir()
    code, _out, err = _run(["plan", POLICIES, "--no-progress", "--out", "plans"], capsys)
    assert (code, err) == (1, "error: plans: cannot write the plan file: Is a directory\n")


def test_sandbox_state_lives_in_one_place_whatever_the_current_directory(tmp_path: Path) -> None:
    from reconciler.flows.connect import sandbox_state_dir

    state = tmp_path / "state"
    assert sandbox_state_dir({"XDG_STATE_HOME": str(state)}) == state / "reconciler" / "sandbox"
    assert sandbox_state_dir({"XDG_STATE_HOME": "relative"}) == (
        Path.home() / ".local" / "state" / "reconciler" / "sandbox")
    assert sandbox_state_dir({"RECONCILER_SANDBOX_DIR": "sb", "XDG_STATE_HOME": str(state)}) == Path("sb")
    assert sandbox_state_dir({}).is_absolute()
