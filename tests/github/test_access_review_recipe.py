"""The nightly access-review recipe in docs/ci.md: actionlint finds nothing, and its commands work."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]


def _recipe() -> str:
    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    section = text[text.index("## Nightly access review"):]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_the_recipe_is_a_clean_workflow(tmp_path: Path) -> None:
    import subprocess

    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint is missing: install the test extra"
    workflow = tmp_path / ".github" / "workflows" / "access-review.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_recipe(), encoding="utf-8")
    done = subprocess.run([found, "-no-color", "-oneline", str(workflow)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert (done.stdout, done.returncode) == ("", 0)
    job = yaml.safe_load(_recipe())["jobs"]["review"]
    assert job["permissions"] == {"contents": "write"}
    assert all(re.search(r"@[0-9a-f]{40}$", step["uses"]) for step in job["steps"] if "uses" in step)


def test_the_recipes_commands_write_the_json_then_the_csv_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    (tmp_path / "review").mkdir()
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sandbox"))
    for name in [k for k in os.environ if k.startswith(("CONFLUENCE_", "ATLASSIAN_"))]:
        monkeypatch.delenv(name)
    steps = [s for s in yaml.safe_load(_recipe())["jobs"]["review"]["steps"] if s.get("with")]
    for step in steps:
        if "command" in step["with"]:
            assert main([step["with"]["command"], *step["with"]["args"].split()]) == 0
    assert (tmp_path / "review" / "access.json").read_text(encoding="utf-8").startswith("{")
    assert (tmp_path / "review" / "access.csv").read_text(encoding="utf-8").startswith("space,person,")
