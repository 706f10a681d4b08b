"""`reconciler validate`: not built yet (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.errors import ExitCode


def register(sub: Any) -> None:
    parser = sub.add_parser("validate", help="(not built yet)", description="(not built yet)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sys.stderr.write("reconciler validate: not built yet\n")
    return int(ExitCode.ERROR)
