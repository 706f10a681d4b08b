"""What the commands show on a terminal: progress on stderr and colour on stdout, and when they stay off.

Reports go to stdout; progress goes to stderr, and only when stderr is a terminal, outside CI, without
``NO_COLOR`` and without ``--no-progress`` (DESIGN.md §7).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from reconciler.report.escape import data

Progress = Callable[[str], None]


def quiet(env: Mapping[str, str]) -> bool:
    """Progress and colour stay off in CI and with NO_COLOR."""
    return bool(env.get("NO_COLOR") or env.get("CI"))


def use_color(fmt: str, stream: TextIO, env: Mapping[str, str]) -> bool:
    return fmt == "text" and not env.get("NO_COLOR") and stream.isatty()


def progress_writer(disabled: bool, env: Mapping[str, str] = os.environ) -> Progress | None:
    """A function that writes one progress line to stderr, or None when progress stays off."""
    if disabled or quiet(env) or not sys.stderr.isatty():
        return None

    def say(message: str) -> None:
        sys.stderr.write(f"  {data(message)}\n")  # a space name from the site is data
        sys.stderr.flush()

    return say
