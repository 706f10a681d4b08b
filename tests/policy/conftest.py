"""Helpers for policy tests: write small policy directories under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

BASE_SITE = """\
version: 1
site:
  url: sandbox:test
  actor: bot
  default_authority: exact
"""

BASE_PEOPLE = """\
people:
  bot: 5b10ac8d82e05b22cc7d4e00
  ann: 5b10ac8d82e05b22cc7d4e01
  gus: {account_id: 5b10ac8d82e05b22cc7d4e02, guest: true}
"""


def write_policy(root: Path, files: dict[str, str | bytes], *, base: bool = True) -> Path:
    """Write ``files`` (relative name -> text or bytes) under ``root``, on top of a minimal valid base."""
    merged: dict[str, str | bytes] = {"site.yaml": BASE_SITE, "people.yaml": BASE_PEOPLE} if base else {}
    merged.update(files)
    for name, content in merged.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path so messages show short relative names (``p/site.yaml``)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def monkeypatch_repo_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in the repository root (for tests of policies/ and schemas/)."""
    monkeypatch.chdir(REPO_ROOT)
    return REPO_ROOT
