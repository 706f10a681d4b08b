"""`reconciler schema`: the committed JSON Schema is current; --check catches a stale one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.policy.schema import TOP_LEVEL_KEYS, json_schema_text


def test_committed_schema_is_current(monkeypatch_repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--check"]) == 0
    assert capsys.readouterr().out == "schemas/policy.schema.json is up to date\n"


def test_check_fails_on_a_stale_schema_and_says_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "policy.schema.json"
    out.write_text("{}\n", encoding="utf-8")
    assert main(["schema", "--check", "--out", str(out)]) == 1
    assert capsys.readouterr().err == f"{out} is stale: run `reconciler schema` and commit the result\n"


def test_check_fails_on_a_missing_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "missing.json"
    assert main(["schema", "--check", "--out", str(out)]) == 1
    assert capsys.readouterr().err == f"{out} is missing: run `reconciler schema` and commit the result\n"


def test_schema_writes_a_deterministic_file(tmp_path: Path) -> None:
    out = tmp_path / "schemas" / "policy.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    first = out.read_bytes()
    assert main(["schema", "--out", str(out)]) == 0
    assert out.read_bytes() == first == json_schema_text().encode()
    assert first.endswith(b"}\n")


def test_schema_covers_every_top_level_key_and_forbids_others() -> None:
    schema = json.loads(json_schema_text())
    assert sorted(schema["properties"]) == sorted(TOP_LEVEL_KEYS)
    assert schema["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in schema["$defs"].values()
               if d.get("type") == "object")
