"""`reconciler import --out DIR [--site URL] [--space KEY ...] [--propose-roles] [--force] [--actor ID]`.

Writes a policy directory from the live site (read-only): site.yaml, people.yaml, roles.yaml and one
spaces/<KEY>.yaml per space, every space ``authority: exact``, sorted and stable, so it validates and plans
to zero changes against the same site. See docs/commands/import.md and docs/import.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reconciler.commands.terminal import connection, progress_shown
from reconciler.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "import",
        help="write a policy directory from the live site (read-only)",
        description=(
            "Read the site read-only and write a policy directory that describes it exactly: site.yaml, "
            "people.yaml, roles.yaml and spaces/<KEY>.yaml (every space exact). The site is CONFLUENCE_URL "
            "or --site. Refuses a non-empty --out directory without --force."
        ),
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="the directory to write (several files: - is refused)")
    parser.add_argument("--site", default=None, metavar="URL",
                        help="the site to import when CONFLUENCE_URL is not set (e.g. sandbox:demo)")
    parser.add_argument("--space", action="append", default=[], metavar="KEY",
                        help="import only this space (repeatable; personal spaces only when named)")
    parser.add_argument("--propose-roles", action="store_true",
                        help="comment each principal on custom access with a proposed role, and "
                             "proposed new custom roles in roles.yaml")
    parser.add_argument("--force", action="store_true", help="write into a non-empty directory")
    parser.add_argument("--actor", default=None, metavar="ACCOUNT_ID",
                        help="the account the tool runs as (default: the account of the credentials)")
    parser.add_argument("--jsonrpc", choices=("never", "allow"), default="never",
                        help="Data Center: allow the legacy JSON-RPC service where the REST space-permission "
                        "API is missing (written to the imported site.yaml as site.jsonrpc)")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.flows.import_site import run_import  # noqa: PLC0415 - keeps `--help` light

    if str(args.out) == "-":
        raise UsageError("import --out -: import writes a directory of policy files; give a directory")
    with progress_shown(args.no_progress) as progress, connection(args) as site:
        result = run_import(
            args.out, site, site=args.site, spaces=args.space, propose_roles_too=args.propose_roles,
            force=args.force, actor=args.actor, progress=progress, jsonrpc=args.jsonrpc == "allow",
        )
    proposals = ""
    if result.proposals is not None:
        proposals = (f"; {len(result.proposals.proposals)} role proposals, "
                     f"{len(result.proposals.new_roles)} new custom roles proposed")
    sys.stdout.write(
        f"Imported {result.spaces} spaces and {result.people} people into {result.out} "
        f"({len(result.files)} files){proposals}. Next: reconciler validate {result.out} && "
        f"reconciler plan {result.out}\n"
    )
    return int(ExitCode.OK)
