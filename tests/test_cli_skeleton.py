"""The CLI's error mapping: usage errors exit 1 with a usage line, bugs exit 3 with one line."""

from __future__ import annotations

import pytest

from reconciler.cli import main


def test_unknown_command_is_a_usage_error_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("usage: reconciler")
    assert "invalid choice: 'frobnicate'" in err
    assert "Traceback" not in err
