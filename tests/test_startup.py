"""Start-up (docs/performance.md, "Start-up"): every command's parser is built on every run, so building it
imports no heavy library and none of the engines; off a terminal the progress display does not import rich.
Checked in a fresh interpreter, since this test process has imported everything already."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("rich", "jinja2", "pydantic", "yaml", "httpx", "httpcore", "deepdiff")
ENGINES = ("reconciler.sandbox", "reconciler.apply", "reconciler.flows", "reconciler.policy",
           "reconciler.plan", "reconciler.confluence", "reconciler.datacenter",
           "reconciler.report.plan_render", "reconciler.report.apply_render")


def _imported_by(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_building_every_commands_parser_imports_no_heavy_library_and_no_engine() -> None:
    imported = _imported_by("from reconciler.cli import build_parser\nbuild_parser()")
    assert "reconciler.commands.plan" in imported  # not an empty check: the parser was built
    assert sorted(m for m in imported if _inside(m, HEAVY + ENGINES)) == []


def test_the_progress_display_off_a_terminal_does_not_import_rich() -> None:
    imported = _imported_by("import io\nfrom reconciler.commands.progress import Display\n"
                            "Display(io.StringIO(), live=False, color=False)('reading')")
    assert "reconciler.commands.progress" in imported
    assert sorted(m for m in imported if _inside(m, ("rich",))) == []


def test_the_progress_display_on_a_terminal_uses_rich() -> None:
    imported = _imported_by("import io\nfrom reconciler.commands.progress import Display\n"
                            "Display(io.StringIO(), live=True, color=False).close()")
    assert "rich.progress" in imported
