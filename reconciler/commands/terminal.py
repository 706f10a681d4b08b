"""What the commands show on a terminal: progress on stderr and colour on stdout, and when they stay off.

Reports go to stdout; progress goes to stderr (``commands/progress.py``): one line updating in place on a
terminal outside CI, a few milestone lines elsewhere, nothing with ``--no-progress``. Colour follows one
rule in every command: only on a terminal, never with ``NO_COLOR`` (https://no-color.org); ``NO_COLOR``
does not switch progress off.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from reconciler.flows.connect import Connection

from reconciler.commands.progress import Display, display
from reconciler.errors import UsageError

Progress = Callable[[str], None]


def use_color(fmt: str, stream: TextIO, env: Mapping[str, str]) -> bool:
    return fmt == "text" and not env.get("NO_COLOR") and stream.isatty()


def progress_writer(disabled: bool, env: Mapping[str, str] = os.environ) -> Display | None:
    """The progress display on stderr (live on a terminal, milestones elsewhere), or None when off."""
    return display(disabled, env, stream=sys.stderr)


@contextmanager
def progress_shown(disabled: bool) -> Iterator[Display | None]:
    """``progress_writer(disabled)``, closed on the way out (so its line goes before the report)."""
    progress = progress_writer(disabled)
    try:
        yield progress
    finally:
        if progress is not None:
            progress.close()


def connection(args: argparse.Namespace) -> Connection:
    """The command's connection: the one ``cli.main`` was given (tests), else one from the environment."""
    given: Connection | None = getattr(args, "connection", None)
    if given is not None:
        return given
    from reconciler.flows.connect import Connection  # noqa: PLC0415 - keeps `--help` light

    return Connection()


def space_keys(values: list[str]) -> tuple[str, ...]:
    """The keys of repeated or comma-separated ``--space`` values, in order, each once."""
    keys = [key.strip() for value in values for key in value.split(",")]
    if any(not key for key in keys):
        raise UsageError("--space needs a space key (e.g. --space ENG)")
    return tuple(dict.fromkeys(keys))
