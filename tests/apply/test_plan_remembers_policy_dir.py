"""A saved plan remembers its policy directory relative to the repository root (git toplevel, else the
current directory), so ``reconciler apply plan.json`` works from another folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.flows.connect import Connection
from reconciler.plan.planfile import dump_plan, load_plan


def test_plan_records_the_policy_dir_relative_to_the_repository_root(
    demo_policy: Path, demo_connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = demo_policy.parent
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "ci").mkdir()
    monkeypatch.chdir(root / "ci")
    main(["plan", "../policies", "--out", "plan.json", "--no-progress"], connection=demo_connection)
    text = (root / "ci" / "plan.json").read_text()
    assert json.loads(text)["policy_dir"] == "policies"
    assert "../policies" not in text  # the policy files it names are relative to the repository root
    assert '"at": "policies/roles.yaml:' in text

    (root / "elsewhere").mkdir()
    monkeypatch.chdir(root / "elsewhere")
    code = main(["apply", "../ci/plan.json", "--auto-approve", "--allow-unsafe", "--no-progress"],
                connection=demo_connection)
    assert code == 0


def test_outside_a_repository_the_policy_dir_is_relative_to_the_current_directory(
    demo_policy: Path, demo_connection: Connection, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(demo_policy.parent.parent))
    monkeypatch.chdir(demo_policy.parent)
    main(["plan", "policies", "--format", "json", "--no-progress"], connection=demo_connection)
    assert json.loads(capsys.readouterr().out)["policy_dir"] == "policies"


def test_a_plan_file_without_policy_dir_still_loads(demo_policy: Path, demo_connection: Connection) -> None:
    from reconciler.flows.plan import run_plan

    _, _, plan = run_plan(demo_policy, demo_connection)
    doc = json.loads(dump_plan(plan))
    assert "policy_dir" not in doc  # not recorded by the flow: the command records it
    assert load_plan(json.dumps(doc)).policy_dir == ""
