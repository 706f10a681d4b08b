"""`reconciler show PLAN_FILE [--format text|markdown|json]`: render a saved plan, offline.

The plan file is what `reconciler plan --out` saved (the PR workflow's artifact); `show` renders it in any
format without reading the site or the policy, e.g. to post the Markdown of a plan made elsewhere or to
read a CI artifact in a terminal. Nothing is checked against the site: `apply` does that.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from reconciler.commands.terminal import use_color
from reconciler.errors import ExitCode


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "show",
        help="render a saved plan file (offline)",
        description="Render a plan file saved by `reconciler plan --out` as text, Markdown or JSON, "
        "without reading the site or the policy.",
    )
    parser.add_argument("plan_file", metavar="PLAN_FILE", help="the plan file (JSON)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                        help="text (default), markdown (PR comment) or json (the plan file, normalised)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.plan.planfile import read_plan_file  # noqa: PLC0415 - keeps `--help` light
    from reconciler.report.plan_render import render_plan  # noqa: PLC0415

    plan = read_plan_file(Path(args.plan_file))
    sys.stdout.write(render_plan(plan, args.format, color=use_color(args.format, sys.stdout, os.environ)))
    return int(ExitCode.OK)
