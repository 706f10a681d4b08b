"""`reconciler plan [POLICY_DIR]`: read the site (read-only), diff against the policy, check safety, render.

Exit codes (DESIGN.md §5, docs/commands/plan.md): 0 no changes (or changes without
``--detailed-exitcode``), 2 changes with ``--detailed-exitcode``, 1 any error. An unsafe plan is rendered
in full (and saved with ``--out``), then the command exits 1 naming ``--allow-unsafe``: like Terraform,
render first, then fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reconciler.atomicfile import write_chunks_atomically
from reconciler.commands.terminal import connection, progress_shown, space_keys, use_color
from reconciler.errors import ExitCode, UsageError
from reconciler.report.formats import REPORT_FORMATS

UNSAFE = "the plan fails {n} safety check(s) (listed at the top of the plan); apply refuses it without {flag}"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "plan",
        help="show what apply would change (read-only)",
        description=(
            "Read the live state of the spaces the policy manages (read-only), compare it with the policy "
            "and show the changes, with the safety checks. Never writes to the site. Exit 0: no changes "
            "(or changes without --detailed-exitcode); 2: changes with --detailed-exitcode; 1: an error "
            "or an unsafe plan (rendered in full first)."
        ),
    )
    parser.add_argument("policy_dir", nargs="?", default="policies", metavar="POLICY_DIR",
                        help="the policy directory (default: policies)")
    parser.add_argument("--out", metavar="FILE", default=None,
                        help="also save the plan as JSON for `reconciler apply FILE` (-: the JSON on stdout, "
                        "the report on stderr)")
    parser.add_argument("--format", choices=REPORT_FORMATS, default="text",
                        help="report on stdout: text (default), markdown (PR comment) or json "
                        "(the plan file)")
    parser.add_argument("--detailed-exitcode", action="store_true",
                        help="exit 2 when the plan has changes (0: none, 1: error)")
    parser.add_argument("--space", action="append", default=[], metavar="KEY",
                        help="plan only this space (repeat, or separate keys with commas)")
    parser.add_argument("--changed-since", metavar="REF", default=None,
                        help="plan only the spaces whose effective policy differs between the policy at "
                        "this git ref and the working tree (a pull request: its base, e.g. origin/main)")
    parser.add_argument("--skip-data-security", action="store_true",
                        help="leave the org's data security controls out of this run (the plan says so); "
                        "also RECONCILER_SKIP_DATA_SECURITY=1")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.confluence import tls  # noqa: PLC0415 - keeps `plan --help` light

    tls.prepare()  # the clients' TLS context, made on a thread beside the imports below (confluence/tls.py)
    from reconciler.flows.plan import run_plan  # noqa: PLC0415

    spaces = space_keys(args.space)
    # the progress line goes (closed) before the report is written
    with progress_shown(args.no_progress) as progress, connection(args) as site:
        desired, _live, plan = run_plan(args.policy_dir, site, spaces=spaces, progress=progress,
                                         skip_data_security=args.skip_data_security,
                                         changed_since=args.changed_since,
                                         meanwhile=lambda: _prepare_the_end(args.format))
    # what only the end needs is imported while the site is read (or here): nothing stands before the first
    # request that the read does not need (docs/performance.md, "Start-up")
    from reconciler.plan.plan import SafetyFinding  # noqa: PLC0415
    from reconciler.plan.planfile import iter_plan, relocated  # noqa: PLC0415
    from reconciler.policy.at_ref import relative_to_repository  # noqa: PLC0415
    from reconciler.report.plan_render import render_plan  # noqa: PLC0415

    if args.out or args.format == "json":  # the plan file: its policy files relative to the repository
        where = relative_to_repository(args.policy_dir)
        plan = dataclasses.replace(relocated(plan, desired.policy_dir, where), policy_dir=where)
    report = sys.stdout
    if args.out == "-":  # the plan file on stdout; the report, unless it is that same JSON, on stderr
        sys.stdout.writelines(iter_plan(plan))
        sys.stdout.flush()
        report = sys.stderr
    elif args.out:
        _save(Path(args.out), iter_plan(plan))
    if report is sys.stdout or args.format != "json":
        report.write(render_plan(plan, args.format, color=use_color(args.format, report, os.environ)))
        report.flush()
    if plan.findings:
        sys.stderr.write("error: " + UNSAFE.format(n=len(plan.findings), flag=SafetyFinding.OVERRIDE) + "\n")
        return int(ExitCode.ERROR)
    if plan.changes and args.detailed_exitcode:
        return int(ExitCode.CHANGES)
    return int(ExitCode.OK)


def _prepare_the_end(fmt: str) -> None:
    """Import what ``run`` needs after the plan (the renderers, jinja2, the plan file writer) and compile
    the report's templates while the site is still being read: the reader threads mostly wait for answers,
    so this costs the read little and takes it off the end (docs/performance.md)."""
    import importlib  # noqa: PLC0415

    for module in ("reconciler.plan.planfile", "reconciler.policy.at_ref"):
        importlib.import_module(module)
    from reconciler.report.plan_render import compile_templates  # noqa: PLC0415

    compile_templates(fmt)


def _save(path: Path, chunks: Iterable[str]) -> None:
    try:
        write_chunks_atomically(path, chunks)  # never a truncated plan file
    except OSError as err:
        raise UsageError(f"{path}: cannot write the plan file: {err.strerror or err}") from None
