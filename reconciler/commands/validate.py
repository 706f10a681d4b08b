"""`reconciler validate [POLICY_DIR] [--format text|json|github]`: check a policy offline.

Exit 0 when valid (warnings are shown but do not fail), 1 when any error is found. ``text`` writes one
line per problem to stderr and a summary to stdout; ``json`` writes a list of problem objects to stdout;
``github`` writes workflow commands (``::error file=...,line=...,col=...::message``) to stdout so the
problems show on the pull request's lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from reconciler.errors import ExitCode, PolicyError, Problem, Severity

FORMATS = ("text", "json", "github")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "validate",
        help="check policy files offline (schema and semantic checks)",
        description="Check a policy directory offline: schema, names, guests, admins, app access limits. "
        "Exit 0 when valid (warnings do not fail), 1 when invalid.",
    )
    parser.add_argument("policy_dir", nargs="?", default="policies", metavar="POLICY_DIR",
                        help="the policy directory (default: policies)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default): one line per problem; json: a list of objects; "
                        "github: workflow annotations")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # the loader pulls pydantic and the YAML parser: imported when a command runs, not for `--help`
    from reconciler.policy.loader import load_policy_with_warnings  # noqa: PLC0415

    try:
        desired, problems = load_policy_with_warnings(args.policy_dir)
    except PolicyError as err:
        _emit(err.problems, args.format)
        return int(ExitCode.ERROR)
    _emit(problems, args.format)
    if args.format == "text":
        counts = (f"{len(desired.spaces)} spaces, {len(desired.defaults)} defaults rules, "
                  f"{len(desired.people)} people, {len(desired.roles)} custom roles")
        sys.stdout.write(f"{args.policy_dir}: valid ({counts})\n")
    return int(ExitCode.OK)


def _emit(problems: Sequence[Problem], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(render_json(problems))
    elif fmt == "github":
        sys.stdout.write(render_github(problems))
    else:
        sys.stderr.write("".join(f"{problem}\n" for problem in problems))


def render_json(problems: Sequence[Problem]) -> str:
    items = [
        {"file": p.file, "line": p.line, "column": p.column, "severity": p.severity.value,
         "path": p.path, "message": p.message, "text": str(p)}
        for p in problems
    ]
    return json.dumps(items, indent=2) + "\n"


def render_github(problems: Sequence[Problem]) -> str:
    lines = []
    for p in problems:
        level = "warning" if p.severity is Severity.WARNING else "error"
        message = f"{p.path}: {p.message}" if p.path else p.message
        lines.append(f"::{level} file={_prop(p.file)},line={p.line},col={p.column}::{_data(message)}\n")
    return "".join(lines)


def _data(text: str) -> str:
    """Escape a workflow command's message (GitHub Actions toolkit ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """Escape a workflow command's property value (``escapeProperty``)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")
