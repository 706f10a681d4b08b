"""One command-line convention for every command (docs/commands/README.md):

- ``--debug``, ``--no-progress`` and ``--no-color`` work before or after the command's name
  (``reconciler --no-progress plan`` is ``reconciler plan --no-progress``); ``--no-color`` is
  ``NO_COLOR=1`` for the run, so colour follows one rule everywhere (NO_COLOR, --no-color, a terminal);
- every command's ``--help`` ends with its exit codes;
- a misspelt flag gets the nearest real one: ``unrecognized arguments: --formt (did you mean --format?)``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

GLOBAL_FLAGS = ("--debug", "--no-progress", "--no-color")
COMMON_EXITS = ("1 an error (a usage mistake, bad input, an API failure); 3 a bug in reconciler; "
                "130 interrupted")
EXIT_CODES = {  # what 0 and 2 mean per command; the common codes follow
    "plan": "0 no changes, or changes without --detailed-exitcode; 2 changes with --detailed-exitcode; "
            "1 also an unsafe plan (rendered in full first)",
    "drift": "0 no drift; 2 drift found",
    "validate": "0 the policy is valid (warnings allowed)",
    "apply": "0 every change applied and verified; 4 a stale saved plan refused (the policy or the site "
             "changed since it was made: plan again), nothing written; 1 also an unsafe plan refused or a "
             "failed change",
}


def add_global_flags(parser: argparse.ArgumentParser) -> None:
    """The global flags on the top-level parser (for its --help; they are taken out before parsing)."""
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress on stderr (before or after the command)")
    parser.add_argument("--no-color", action="store_true",
                        help="no colour, like NO_COLOR=1 (before or after the command)")


def add_exit_codes(parser: argparse.ArgumentParser, commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for name, child in commands.choices.items():
        child.epilog = f"Exit codes: {EXIT_CODES.get(name, '0 success')}; {COMMON_EXITS}."
    parser.epilog = f"Exit codes: 0 success; {COMMON_EXITS}. Each command's --help says more."


def split_global(argv: Sequence[str]) -> tuple[list[str], set[str]]:
    """``argv`` without the global flags (anywhere before a ``--``), and the global flags found."""
    rest: list[str] = []
    found: set[str] = set()
    for index, arg in enumerate(argv):
        if arg == "--":
            rest += argv[index:]
            break
        if arg in GLOBAL_FLAGS:
            found.add(arg)
        else:
            rest.append(arg)
    return rest, found


def apply_global(args: argparse.Namespace, flags: set[str]) -> None:
    args.debug = "--debug" in flags
    args.no_progress = "--no-progress" in flags or bool(getattr(args, "no_progress", False))


@contextmanager
def no_color(on: bool) -> Iterator[None]:
    """``--no-color`` is ``NO_COLOR=1`` for this command: every colour decision reads NO_COLOR."""
    if not on or os.environ.get("NO_COLOR"):
        yield
        return
    os.environ["NO_COLOR"] = "1"
    try:
        yield
    finally:
        os.environ.pop("NO_COLOR", None)


def suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    """`` (did you mean --format?)`` for an unrecognised flag close to a real one, else ``""``."""
    match = re.match(r"unrecognized arguments: (\S+)", message)
    if match is None or not match.group(1).startswith("--"):
        return ""
    wrong = match.group(1).split("=", 1)[0]
    close = difflib.get_close_matches(wrong, sorted(_flags(parser)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    """Every long flag of ``parser`` and of its commands."""
    found = set(GLOBAL_FLAGS)
    for action in parser._actions:
        found.update(s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= _flags(child)
    return found
