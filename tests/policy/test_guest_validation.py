"""A guest given too much access in the demo policy fails validation (the checks are in policy/checks.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.errors import PolicyError
from reconciler.policy.loader import load_policy

DEMO = Path(__file__).resolve().parents[2] / "policies"


def demo_copy(tmp_path: Path, space: str, old: str, new: str) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(DEMO, target)
    path = target / "spaces" / f"{space}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_demo_policy_with_a_guest_raised_to_admin_fails_validation(tmp_path: Path) -> None:
    policy = demo_copy(tmp_path, "DOCS", "user:gina: Viewer ", "user:gina: Admin  ")
    with pytest.raises(PolicyError) as exc:
        load_policy(policy)
    assert str(exc.value) == (
        f"{policy}/spaces/DOCS.yaml:7:18: spaces.DOCS.assign: guest 'gina' cannot hold Admin: it includes "
        "administer/space, export/space, restrict_content/space (guests may never administer, export or "
        "restrict)"
    )


def test_demo_policy_as_shipped_validates() -> None:
    assert load_policy(DEMO).guests == frozenset({"5b10a2844c20165700ede21a", "5b10a2844c20165700ede21b"})
