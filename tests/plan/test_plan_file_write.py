"""Writing the plan file in pieces: whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.atomicfile import write_chunks_atomically


def test_plan_file_written_in_pieces_holds_them_all_in_order(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    write_chunks_atomically(target, ["{\n", '  "é": 1', "\n}\n"])
    assert target.read_text(encoding="utf-8") == '{\n  "é": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_failure_halfway_through_the_pieces_leaves_the_old_plan_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old plan\n", encoding="utf-8")

    def pieces() -> Iterator[str]:
        yield "{\n"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_chunks_atomically(target, pieces())
    assert target.read_text(encoding="utf-8") == "old plan\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_piece_that_cannot_be_encoded_leaves_the_old_plan(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old plan\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_chunks_atomically(target, ["{\n", "\ud800"])
    assert target.read_text(encoding="utf-8") == "old plan\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
