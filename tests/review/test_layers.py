"""The review core and its renderers are pure: no HTTP, no site client, no sandbox."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "reconciler"
PURE = [*sorted((ROOT / "review").glob("*.py")), *sorted((ROOT / "report").glob("access_*.py"))]
FORBIDDEN = ("httpx", "reconciler.confluence", "reconciler.sandbox", "reconciler.commands", "socket")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_review_core_and_its_renderers_import_nothing_that_speaks_http() -> None:
    assert len(PURE) >= 8
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in PURE
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert offending == set()
