"""Warnings are reported but never fail a load: empty files, expired drift acknowledgements."""
# ruff: noqa: E501 - policy fixtures and expected messages read best on one line

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reconciler.policy.loader import load_policy_with_warnings

from .conftest import write_policy

DRIFT = "drift:\n  ignore:\n    - {space: OPS, principal: group:contractors, reason: migration, until: 2026-11-22}\n"


def test_an_empty_file_is_a_warning(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"notes.yaml": "# nothing here yet\n"})
    _, warnings = load_policy_with_warnings("p", today=dt.date(2026, 11, 23))
    assert [str(w) for w in warnings] == ["p/notes.yaml:1:1: warning: empty file"]


def test_an_expired_drift_acknowledgement_is_a_warning(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"drift.yaml": DRIFT})
    desired, warnings = load_policy_with_warnings("p", today=dt.date(2026, 11, 23))
    assert [str(w) for w in warnings] == [
        "p/drift.yaml:3:76: warning: drift.ignore[0].until: acknowledged drift of group:contractors in OPS expired on 2026-11-22; remove the entry or extend 'until'"
    ]
    assert desired.drift_ignore[0].until == dt.date(2026, 11, 22)


def test_a_drift_acknowledgement_is_valid_through_its_last_day(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"drift.yaml": DRIFT})
    _, warnings = load_policy_with_warnings("p", today=dt.date(2026, 11, 22))
    assert warnings == []
