"""`reconciler show PLAN_FILE`: a saved plan rendered in any format, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.plan.planfile import dump_plan, load_plan
from reconciler.report.plan_render import render_plan
from tests.report.scenarios import demo


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_show_renders_a_saved_plan_as_plan_would(fmt: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.json"
    path.write_text(dump_plan(demo()), encoding="utf-8")
    assert main(["show", str(path), "--format", fmt]) == 0
    assert capsys.readouterr().out == render_plan(load_plan(path.read_text(encoding="utf-8")), fmt)


def test_show_of_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(tmp_path / "nope.json")]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'nope.json'}: cannot read the plan file: No such file or directory\n"
    )


def test_show_of_a_file_that_is_not_utf8_names_the_byte_as_apply_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"format_version": 1, "site": "\xe9"}')
    assert main(["show", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"error: {path}: the plan file is not UTF-8 (byte 0xe9 at offset 31); make it again with "
        "`reconciler plan --out`\n"
    )
