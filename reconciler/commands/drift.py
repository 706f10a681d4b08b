"""`reconciler drift [POLICY_DIR] [--format text|markdown|json] [--no-progress]`: where the site differs.

Read-only (the same read-only client as plan). Exit 0: no drift; 2: drift found (acknowledged differences
do not count, expired acknowledgements do); 1: any error. See docs/commands/drift.md and docs/drift.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.commands.terminal import connection, progress_shown, space_keys
from reconciler.errors import ExitCode

DEFAULT_POLICY_DIR = "policies"
FORMATS = ("text", "markdown", "json")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "drift",
        help="report where the live site differs from the policy (read-only; exit 2 on drift)",
        description=(
            "Read the site read-only and report, classified, every place where it differs from the "
            "policy: access added or removed outside the policy, changed roles, unknown principals, "
            "custom access, policy spaces the tool cannot see, and unmanaged spaces. Exit 0 when there "
            "is no drift, 2 when there is, 1 on any error."
        ),
    )
    parser.add_argument("policy_dir", nargs="?", default=DEFAULT_POLICY_DIR, metavar="POLICY_DIR",
                        help="the policy directory (default: policies)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="report format: text, markdown (a GitHub issue body) or json (default: text)")
    parser.add_argument("--space", action="append", default=[], metavar="KEY",
                        help="check only this space (repeat, or separate keys with commas); unmanaged "
                        "spaces and the org's data security are then left out")
    parser.add_argument("--skip-data-security", action="store_true",
                        help="leave the org's data security controls out of this run (the plan says so); "
                        "also RECONCILER_SKIP_DATA_SECURITY=1")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.flows.drift import run_drift  # noqa: PLC0415 - keeps `--help` light
    from reconciler.report.drift_render import render_drift  # noqa: PLC0415

    with progress_shown(args.no_progress) as progress, connection(args) as site:
        report = run_drift(args.policy_dir, site, progress=progress, spaces=space_keys(args.space),
                           skip_data_security=args.skip_data_security)
    sys.stdout.write(render_drift(report, args.format))
    return int(ExitCode.CHANGES if report.has_drift else ExitCode.OK)
