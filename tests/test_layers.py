"""The one-way rule of docs/architecture.md, checked over every import in reconciler/ (lazy ones too)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import statement in ``path``, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield node.lineno, base
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


MODULES = {_module(path): path for path in sorted(PACKAGE.rglob("*.py"))}
IMPORTS = [(name, line, target) for name, path in MODULES.items() for line, target in _imports(path)]


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# (who, may not import, why)
RULES = [
    (("reconciler.plan", "reconciler.report", "reconciler.policy", "reconciler.review"),
     ("httpx", "reconciler.confluence", "reconciler.datacenter"),
     "the core is pure: it never speaks HTTP or knows a backend"),
    (("reconciler.confluence", "reconciler.datacenter"),
     ("reconciler.plan", "reconciler.policy", "reconciler.apply", "reconciler.flows", "reconciler.sandbox",
      "reconciler.drift", "reconciler.report", "reconciler.review", "reconciler.importer",
      "reconciler.commands"),
     "a backend imports nothing above itself"),
    (("reconciler.plan", "reconciler.report", "reconciler.policy", "reconciler.apply", "reconciler.drift",
      "reconciler.importer"),
     ("reconciler.datacenter", "reconciler.confluence"),
     "nothing above the backends knows which backend runs (only the composition root does)"),
    (("reconciler.model", "reconciler.live_state", "reconciler.permissions", "reconciler.errors",
      "reconciler.backend", "reconciler.vocabulary"),
     ("reconciler.confluence", "reconciler.plan", "reconciler.policy", "reconciler.apply", "reconciler.flows",
      "reconciler.sandbox", "reconciler.drift", "reconciler.report", "reconciler.importer", "httpx"),
     "the value objects and the backend contract are the bottom layer"),
    (("reconciler.plan", "reconciler.report", "reconciler.policy", "reconciler.apply", "reconciler.drift",
      "reconciler.importer", "reconciler.review", "reconciler.confluence", "reconciler.datacenter",
      "reconciler.model", "reconciler.live_state", "reconciler.permissions", "reconciler.backend"),
     ("reconciler.flows", "reconciler.commands", "reconciler.cli"),
     "only commands call the flows"),
]


@pytest.mark.parametrize(("who", "forbidden", "why"), RULES, ids=[rule[2] for rule in RULES])
def test_layers_point_one_way(who: tuple[str, ...], forbidden: tuple[str, ...], why: str) -> None:
    broken = [f"{name}:{line} imports {target}" for name, line, target in IMPORTS
              if any(_inside(name, w) for w in who) and any(_inside(target, f) for f in forbidden)]
    assert broken == [], why


def test_only_the_composition_root_and_the_sandbox_command_import_the_sandbox() -> None:
    allowed = ("reconciler.sandbox", "reconciler.flows.connect", "reconciler.commands.sandbox")
    broken = [f"{name}:{line} imports {target}" for name, line, target in IMPORTS
              if _inside(target, "reconciler.sandbox") and not any(_inside(name, a) for a in allowed)]
    assert broken == []


def test_the_rules_see_the_imports_they_guard() -> None:
    """Not an empty check: the scan finds the imports it must find."""
    found = {(name, target) for name, _line, target in IMPORTS}
    assert ("reconciler.flows.connect", "reconciler.sandbox.transport") in found  # a lazy import
    assert ("reconciler.confluence.client", "httpx") in found
    assert ("reconciler.confluence.admin", "reconciler.confluence.app_policy_wire") in found
