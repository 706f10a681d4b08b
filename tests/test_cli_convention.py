"""One command-line convention: global flags before or after the command, exit codes in every help, a
suggestion for a misspelt flag, --no-color as NO_COLOR for the run."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from reconciler.cli import build_parser, main
from reconciler.commands import convention


def test_global_flags_are_taken_out_wherever_they_are_before_a_double_dash() -> None:
    argv = ["--debug", "plan", "policies", "--no-color", "--", "--no-progress"]
    rest, flags = convention.split_global(argv)
    assert rest == ["plan", "policies", "--", "--no-progress"]
    assert flags == {"--debug", "--no-color"}


@pytest.mark.parametrize("argv", [["--no-progress", "plan", "p"], ["plan", "p", "--no-progress"]])
def test_no_progress_before_or_after_the_command_reaches_the_command(argv: list[str]) -> None:
    rest, flags = convention.split_global(argv)
    args = build_parser().parse_args(rest)
    convention.apply_global(args, flags)
    assert args.no_progress is True
    assert args.debug is False


def test_every_command_help_ends_with_its_exit_codes() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, child in commands.choices.items():  # type: ignore[attr-defined]
        assert child.epilog.startswith("Exit codes: "), name
        assert "3 a bug in reconciler; 130 interrupted." in child.epilog
    assert commands.choices["plan"].epilog.startswith(  # type: ignore[attr-defined]
        "Exit codes: 0 no changes, or changes without --detailed-exitcode; 2 changes with "
        "--detailed-exitcode")
    assert commands.choices["apply"].epilog.startswith(  # type: ignore[attr-defined]
        "Exit codes: 0 every change applied and verified; 4 a stale saved plan refused (the policy or the "
        "site changed since it was made: plan again), nothing written; 1 also")


def test_a_misspelt_flag_gets_the_nearest_real_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["plan", "policies", "--formt", "json"])
    assert exc.value.code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "reconciler: error: unrecognized arguments: --formt json (did you mean --format?)"
    )


def test_a_flag_far_from_any_gets_no_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "policies", "--zzzzzz"])
    assert capsys.readouterr().err.splitlines()[-1] == "reconciler: error: unrecognized arguments: --zzzzzz"


def test_no_color_is_no_color_for_the_run_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    with convention.no_color(True):
        assert os.environ["NO_COLOR"] == "1"
    assert "NO_COLOR" not in os.environ


def test_sandbox_serve_on_a_busy_port_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["sandbox", "serve", "--port", str(port), "--state-dir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot serve on 127.0.0.1:{port}: ")
    assert err.endswith("; choose another --port (--port 0 picks a free one)\n")
    assert len(err.splitlines()) == 1
