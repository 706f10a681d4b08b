"""Which names are read is decided, and nothing that could hold policy is dropped silently (issue 14 §2).

Only names ending in ``.yaml``/``.yml`` (lowercase) are read. A name that looks like a policy file but is
not read, and a directory that cannot be listed, are errors: skipping them would turn the access they
declare into removals at the next apply.
"""
# ruff: noqa: E501 - expected messages are compared whole, one per line

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import PolicyError
from reconciler.policy import loader
from reconciler.policy.loader import load_policy_with_warnings

from .conftest import write_policy

TODAY = dt.date(2026, 11, 23)
HR = "spaces:\n  HR:\n    assign:\n      group:space-admins: Admin\n"
ADVICE = "looks like a policy file but is not read (only names ending in '.yaml' or '.yml', lowercase, are read)"


def _problems(root: str = "p") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings(root, today=TODAY)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(("name", "fixed"), [
    ("HR.YAML", "HR.yaml"),
    ("HR.Yml", "HR.yml"),
    ("HR.yAmL", "HR.yaml"),
    ("HR.yaml.bak", "HR.yaml"),
    ("HR.yaml~", "HR.yaml"),
    ("HR.yaml ", "HR.yaml"),
    ("HR.yml.orig", "HR.yml"),
])
def test_a_name_that_almost_matches_is_an_error_naming_the_fix(in_tmp: Path, name: str, fixed: str) -> None:
    write_policy(in_tmp / "p", {f"spaces/{name}": HR})
    assert _problems() == [
        f"p/spaces/{name}:1:1: {ADVICE}; rename it to '{fixed}' or move it out of the policy directory",
    ]


def test_other_files_and_hidden_files_are_not_policy_and_are_ignored(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"README.md": "# policies\n", "CODEOWNERS": "* @a\n", "notes.txt": "x\n",
                                ".draft.YAML": HR, ".git/HR.yaml~": HR, "spaces/HR.yaml": HR})
    desired, warnings = load_policy_with_warnings("p", today=TODAY)
    assert set(desired.spaces) == {"HR"}
    assert warnings == []


def test_a_directory_that_cannot_be_listed_is_an_error_not_an_empty_directory(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policy(in_tmp / "p", {"spaces/HR.yaml": HR})
    real = os.scandir

    def scandir(path: Any) -> Iterator[os.DirEntry[str]]:
        if Path(path).name == "spaces":  # the test runs as any user (root reads everything): refuse here
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(loader.os, "scandir", scandir)
    assert _problems() == [
        "p/spaces:1:1: cannot list directory: Permission denied; its policy files would be skipped, so make it readable or move it out of the policy directory",
    ]


def test_a_file_that_cannot_be_read_is_an_error(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_policy(in_tmp / "p", {"spaces/HR.yaml": HR})
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "HR.yaml":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert _problems() == ["p/spaces/HR.yaml:1:1: cannot read file: Permission denied"]
