"""`reconciler doctor [POLICY_DIR]`: check, read-only, every assumption the tool makes about a site (and,
with an Admin API key, its org) before trusting it. One line per check: ok, or what differed.

Exit codes: 0 every check passed (warnings allowed), 2 a check found a difference, 1 an error (a bad
command line). ``--format json`` is a report fit to attach to a bug: shapes and counts only, no secrets and
no names or ids of people, groups or spaces. See docs/commands/doctor.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import ExitCode, PolicyError, UsageError

FORMATS = ("text", "json")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check the tool's assumptions against a real site (read-only)",
        description=(
            "Check, read-only, every assumption the tool makes about the site (and, with an Admin API key, "
            "the org): who the tool runs as, the role mode, the permission catalogue, the shape of one page "
            "of each read, app accounts and companion rows, rate-limit headers, data security policies. "
            "Exit 0: all ok; 2: something differs; 1: an error."
        ),
    )
    parser.add_argument("policy_dir", nargs="?", default="policies", metavar="POLICY_DIR",
                        help="the policy directory whose site.url (and data_security.org_id) to check "
                        "(default: policies; CONFLUENCE_URL or --site override it)")
    parser.add_argument("--site", metavar="URL", default=None,
                        help="the site to check instead of the policy's (no policy needed)")
    parser.add_argument("--org-id", metavar="ID", default=None,
                        help="the Admin API organisation id (default: the policy's data_security.org_id)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default) or json (shapes and counts only, fit to attach to a bug)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> int:
    # imported here, like plan's, so `doctor --help` stays light
    from reconciler.confluence.doctor import failed, render_text, report  # noqa: PLC0415
    from reconciler.flows.connect import Connection  # noqa: PLC0415
    from reconciler.flows.doctor import run_doctor  # noqa: PLC0415

    site, org_id = _target(args, env)
    with getattr(args, "connection", None) or Connection(env) as opened:
        url, findings = run_doctor(site, org_id, opened)
    if args.format == "json":
        sys.stdout.write(json.dumps(report(findings), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(url, findings))
    sys.stdout.flush()
    return int(ExitCode.CHANGES if failed(findings) else ExitCode.OK)


def _target(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, str | None]:
    """(site URL, org id): ``--site``/``CONFLUENCE_URL`` need no policy; else the policy's."""
    org_id: str | None = args.org_id
    if args.site:
        return args.site, org_id
    policy_dir = Path(args.policy_dir)
    if not policy_dir.is_dir():
        if (env.get("CONFLUENCE_URL") or "").strip():
            return "", org_id
        raise UsageError(f"policy directory '{policy_dir}' not found; name the site with --site URL "
                         "(or CONFLUENCE_URL)")
    from reconciler.policy.loader import load_policy  # noqa: PLC0415

    try:
        desired = load_policy(policy_dir)
    except PolicyError as err:
        raise UsageError(f"{err.errors[0] if err.errors else err}; fix the policy or name the site with "
                         "--site URL") from None
    if org_id is None and desired.data_security is not None:
        org_id = desired.data_security.org_id or None
    return desired.site.url, org_id
