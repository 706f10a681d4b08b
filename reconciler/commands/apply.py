"""`reconciler apply [PLAN_FILE | POLICY_DIR]`: apply a saved plan, or plan a policy directory and apply it.

A ``.json`` file is a saved plan: exactly that plan is applied, refused if the live state (or the policy)
changed since, if it was made for another site, or if it is not exactly the plan the policy and the live
state give (``flows.apply.PolicySite.seal``: an edited plan file is never applied). A directory is
planned, the plan printed, and confirmation asked on a terminal; without a terminal ``--auto-approve`` is
required, otherwise nothing is written. Exit 0 when every change is done and verified, 4 when a saved
plan is refused as stale (nothing written: plan again), 1 when anything else failed, was skipped or did not
converge (docs/commands/apply.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.commands.terminal import connection, progress_writer, space_keys
from reconciler.errors import ExitCode, UsageError
from reconciler.report.formats import REPORT_FORMATS

if TYPE_CHECKING:
    from reconciler.commands.progress import Display
    from reconciler.flows.apply import Approval
    from reconciler.plan.plan import Plan

DEFAULT_POLICY_DIR = "policies"
NEEDS_APPROVAL = (
    "stdin is not a terminal, so apply cannot ask for confirmation: pass --auto-approve to apply "
    "without asking; nothing was written"
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "apply",
        help="apply a saved plan, or plan a policy directory and apply it",
        description=(
            "Apply a saved plan (PLAN_FILE, a .json from `reconciler plan --out`; refused if the site "
            "changed since) or plan POLICY_DIR, show the plan and apply it after confirmation."
        ),
    )
    parser.add_argument("target", nargs="?", default=DEFAULT_POLICY_DIR, metavar="PLAN_FILE | POLICY_DIR",
                        help="a saved plan (.json) or a policy directory (default: policies)")
    parser.add_argument("--policy-dir", default=None, metavar="DIR",
                        help="with a PLAN_FILE: the policy directory it was made from (default: policies)")
    parser.add_argument("--auto-approve", action="store_true",
                        help="apply a policy directory's plan without asking (required without a terminal)")
    parser.add_argument("--allow-unsafe", action="store_true",
                        help="apply a plan that fails the safety checks")
    parser.add_argument("--format", choices=REPORT_FORMATS, default="text",
                        help="apply report format (default: text)")
    parser.add_argument("--skip-data-security", action="store_true",
                        help="leave the org's data security controls out of this run (the plan says so); "
                        "also RECONCILER_SKIP_DATA_SECURITY=1")
    parser.add_argument("--space", action="append", default=[], metavar="KEY",
                        help="with a policy directory: plan and apply only this space (repeat, or separate "
                        "keys with commas)")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # the flow pulls httpx and the Cloud backend: imported when apply runs, not for `reconciler --help`
    from reconciler.flows.apply import is_saved_plan, run_apply  # noqa: PLC0415


    target = Path(args.target)
    if not is_saved_plan(target) and not target.is_dir():
        raise UsageError(f"{target}: neither a plan file (.json) nor a policy directory")
    progress = progress_writer(args.no_progress)
    try:
        with connection(args) as site:
            result = run_apply(
                target, site, policy_dir=args.policy_dir, allow_unsafe=args.allow_unsafe,
                skip_data_security=args.skip_data_security,
                show=lambda plan: _show(plan, args.format, progress),
                approve=lambda plan: _approve(plan, args),
                progress=progress, spaces=space_keys(args.space),
            )
    finally:
        if progress is not None:
            progress.close()
    if result is None:
        return int(ExitCode.ERROR)
    # the apply engine's report: not imported to build the parser (docs/performance.md, "Start-up")
    from reconciler.report.apply_render import render_apply  # noqa: PLC0415

    sys.stdout.write(render_apply(result, args.format))
    return int(ExitCode.OK if result.ok else ExitCode.ERROR)


def _show(plan: Plan, fmt: str, progress: Display | None) -> None:
    """Print the plan as `reconciler plan` does (on stderr for a json or markdown report: parseable)."""
    from reconciler.report.plan_render import render_plan  # noqa: PLC0415 - keeps `apply --help` light

    if progress is not None:
        progress.close()  # the plan and the prompt print clean; the writes report milestones
    out = sys.stdout if fmt == "text" else sys.stderr
    out.write(render_plan(plan, "text"))


def _approve(plan: Plan, args: argparse.Namespace) -> Approval:
    """--auto-approve, or 'yes' typed on a terminal; nothing else applies a policy directory's plan."""
    from reconciler.flows.apply import Approval  # noqa: PLC0415 - see run

    if args.auto_approve:
        return Approval.GIVEN
    if not sys.stdin.isatty():
        sys.stderr.write(f"error: {NEEDS_APPROVAL}\n")
        return Approval.REFUSED
    count = len(plan.changes)
    sys.stderr.write(f"\nApply these {count} changes? Only 'yes' is accepted: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if answer != "yes":
        sys.stderr.write("Apply cancelled; nothing was written.\n")
        return Approval.REFUSED
    return Approval.CONFIRMED
