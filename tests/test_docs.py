"""Every command has help text and a page under docs/commands/ that mentions each of its long options."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from reconciler.cli import COMMANDS, build_parser, main

DOCS = Path(__file__).resolve().parents[1] / "docs" / "commands"
PLACEHOLDER = "(not built yet)"


def _command_name(module: str) -> str:
    """Module ``import_`` registers the command ``import``."""
    return module.rstrip("_")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public way to list subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _long_options(parser: argparse.ArgumentParser) -> set[str]:
    """The parser's long options and those of its own subcommands (``sandbox serve --port``)."""
    options = {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    for sub in _subparsers(parser).values():
        options |= _long_options(sub)
    return options


def _parser(module: str) -> argparse.ArgumentParser:
    return _subparsers(build_parser())[_command_name(module)]


@pytest.mark.parametrize("module", COMMANDS, ids=_command_name)
def test_command_has_help(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    name = _command_name(module)
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: reconciler {name}")
    assert PLACEHOLDER not in out


@pytest.mark.parametrize("module", COMMANDS, ids=_command_name)
def test_command_is_documented_with_every_long_option(module: str) -> None:
    name = _command_name(module)
    page = DOCS / f"{name}.md"
    assert page.is_file(), f"docs/commands/{name}.md is missing"
    text = page.read_text(encoding="utf-8")
    missing = sorted(option for option in _long_options(_parser(module)) if option not in text)
    assert missing == [], f"docs/commands/{name}.md does not mention {', '.join(missing)}"


def test_the_commands_index_lists_every_command() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [name for name in map(_command_name, COMMANDS) if f"[{name}]({name}.md)" not in index]
    assert missing == []
