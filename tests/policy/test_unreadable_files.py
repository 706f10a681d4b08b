"""A ``*.yaml``/``*.yml`` entry that is not a regular file is an error, never skipped silently.

Skipping it would drop the access that file declared, and the next plan would remove that access.
"""
# ruff: noqa: E501 - expected messages are compared whole, one per line

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.policy.loader import load_policy_with_warnings

from .conftest import write_policy

TODAY = dt.date(2026, 11, 23)
ENG = "spaces:\n  ENG:\n    assign:\n      group:space-admins: Admin\n"


def _problems(root: str = "p") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings(root, today=TODAY)
    return [str(problem) for problem in caught.value.problems]


def test_a_broken_symbolic_link_named_like_a_policy_file_is_an_error(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {})
    (in_tmp / "p" / "spaces").mkdir()
    (in_tmp / "p" / "spaces" / "HR.yaml").symlink_to(in_tmp / "gone" / "HR.yaml")
    assert _problems() == [
        "p/spaces/HR.yaml:1:1: not a readable file (a broken symbolic link); fix the link or delete it",
    ]


def test_a_directory_named_like_a_policy_file_is_an_error(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"spaces/ENG.yaml/readme.txt": "not policy\n"})
    assert _problems() == [
        "p/spaces/ENG.yaml:1:1: not a readable file (a directory); rename it or move its files up",
    ]


def test_a_fifo_named_like_a_policy_file_is_an_error(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {})
    os.mkfifo(in_tmp / "p" / "roles.yml")
    assert _problems() == [
        "p/roles.yml:1:1: not a readable file (a FIFO, socket or device); replace it with a regular file or delete it",
    ]


def test_a_symbolic_link_to_a_file_outside_the_policy_directory_is_an_error(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {})
    (in_tmp / "elsewhere.yaml").write_text(ENG, encoding="utf-8")
    (in_tmp / "p" / "spaces").mkdir()
    (in_tmp / "p" / "spaces" / "ENG.yaml").symlink_to(in_tmp / "elsewhere.yaml")
    assert _problems() == [
        "p/spaces/ENG.yaml:1:1: not a readable file (a symbolic link to a file outside the policy directory); copy the file into the policy directory instead",
    ]


def test_a_symbolic_link_to_a_regular_file_inside_the_policy_directory_is_read(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"shared/eng.txt": ENG})
    (in_tmp / "p" / "spaces").mkdir()
    (in_tmp / "p" / "spaces" / "ENG.yaml").symlink_to(Path("..") / "shared" / "eng.txt")
    desired, warnings = load_policy_with_warnings("p", today=TODAY)
    assert "ENG" in desired.spaces
    assert warnings == []


def test_a_broken_link_is_reported_alongside_the_other_problems(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"roles.yaml": "roles:\n  R: {permissions: [read/spaces]}\n"})
    (in_tmp / "p" / "extra.yaml").symlink_to("missing.yaml")
    assert _problems() == [
        "p/extra.yaml:1:1: not a readable file (a broken symbolic link); fix the link or delete it",
        "p/roles.yaml:2:21: roles.R.permissions[0]: unknown permission 'read/spaces' (did you mean 'read/space'?)",
    ]


def test_a_symbolic_link_to_a_directory_is_an_error_rather_than_skipping_its_files(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {})
    write_policy(in_tmp / "shared", {"ENG.yaml": ENG}, base=False)
    (in_tmp / "p" / "spaces").symlink_to(in_tmp / "shared")
    assert _problems() == [
        ("p/spaces:1:1: a symbolic link to a directory is not followed, so the policy files in it would be "
         "skipped; replace it with a real directory"),
    ]


def test_regular_files_are_told_apart_by_the_listing_without_a_system_call_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10,000 space files are listed, not stat'ed one by one (the time before the site's first request)."""
    from reconciler.policy.loader import policy_files

    (tmp_path / "spaces").mkdir()
    for key in ("ENG", "HR", "OPS"):
        (tmp_path / "spaces" / f"{key}.yaml").write_text(ENG, encoding="utf-8")
    (tmp_path / "site.yaml").write_text("version: 1\n", encoding="utf-8")

    def no_stat(self: Path, *args: object, **kwargs: object) -> bool:
        raise AssertionError(f"a system call for {self}")

    for name in ("is_file", "is_dir", "is_symlink", "exists"):
        monkeypatch.setattr(Path, name, no_stat)
    assert [p.as_posix() for p in policy_files(tmp_path)] == [
        "site.yaml", "spaces/ENG.yaml", "spaces/HR.yaml", "spaces/OPS.yaml"]
