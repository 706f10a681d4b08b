"""`reconciler access [POLICY_DIR]`: who can see, edit or administer each managed space, and through what.

Read-only. Group members are read from the site (once per group). ``--diff OLD.json NEW.json`` compares two
saved reviews and ``--from REVIEW.json`` renders a saved one (neither reads the site). Exit 0, or 1 on any
error. See docs/commands/access.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from reconciler.commands.terminal import connection, progress_shown
from reconciler.errors import ExitCode, UsageError

FORMATS = ("text", "markdown", "csv", "json", "html")
DIFF_FORMATS = ("text", "markdown", "json")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "access",
        help="access review: who can see, edit or administer each space, and through what (read-only)",
        description=(
            "Read the managed spaces and the members of every group holding access (read-only) and list, "
            "for each space, every person with access, their effective permissions and the path of each "
            "grant, with the reviewer's questions: administrators, guests, people reaching a space only "
            "through an undeclared group, access that differs from the policy. Anonymous and "
            "all-licensed-users access is shown as such, never expanded. Names and account ids appear "
            "only with --names. With --diff, compare two saved JSON reviews instead."
        ),
    )
    parser.add_argument("policy_dir", nargs="?", default="policies", metavar="POLICY_DIR",
                        help="the policy directory (default: policies)")
    parser.add_argument("--space", action="append", default=[], metavar="KEY",
                        help="review only this space (repeat, or separate keys with commas)")
    parser.add_argument("--person", action="append", default=[], metavar="HANDLE",
                        help="review only this person: a people handle or an account id (repeatable)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), markdown, csv, json (the saved review) or html (one "
                        "self-contained file)")
    parser.add_argument("--names", action="store_true",
                        help="include account ids and display names (off by default: reports get shared)")
    parser.add_argument("--out", metavar="FILE", default=None,
                        help="write the report here instead of stdout (-: stdout)")
    parser.add_argument("--from", dest="saved", metavar="REVIEW.json", default=None,
                        help="render a review saved with --format json instead of reading the site")
    parser.add_argument("--diff", nargs=2, metavar=("OLD.json", "NEW.json"), default=None,
                        help="compare two saved reviews: who gained, lost or changed access")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.diff:
        text = _diff(args.diff[0], args.diff[1], args.format)
    elif args.saved:
        from reconciler.report.access_render import render_access  # noqa: PLC0415

        text = render_access(_load(args.saved), args.format)
    else:
        from reconciler.flows.access import run_access  # noqa: PLC0415 - keeps `--help` light
        from reconciler.report.access_render import render_access  # noqa: PLC0415

        with progress_shown(args.no_progress) as progress, connection(args) as site:
            review = run_access(args.policy_dir, site, spaces=_keys(args.space, "--space"),
                                persons=_keys(args.person, "--person"), names=args.names,
                                progress=progress)
        text = render_access(review, args.format)
    if args.out and args.out != "-":
        _save(Path(args.out), text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return int(ExitCode.OK)


def _diff(old: str, new: str, fmt: str) -> str:
    from reconciler.report.access_diff_render import render_diff  # noqa: PLC0415
    from reconciler.review import diff_reviews  # noqa: PLC0415

    if fmt not in DIFF_FORMATS:
        raise UsageError(f"--diff renders as {', '.join(DIFF_FORMATS)}, not {fmt}")
    return render_diff(diff_reviews(_load(old), _load(new)), fmt)


def _load(path: str) -> Any:
    from reconciler.review import from_json  # noqa: PLC0415

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"{path}: cannot read the review: {err.strerror or err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}:{err.lineno}:{err.colno}: not JSON: {err.msg}; give a review saved with "
                         "--format json") from None
    return from_json(data, path)


def _keys(values: list[str], flag: str) -> tuple[str, ...]:
    keys = [key.strip() for value in values for key in value.split(",")]
    if any(not key for key in keys):
        raise UsageError(f"{flag} needs a value (e.g. {flag} {'ENG' if flag == '--space' else 'alice'})")
    return tuple(dict.fromkeys(keys))


def _save(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"{path}: cannot write the report: {err.strerror or err}") from None
