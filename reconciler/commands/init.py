"""`reconciler init DIR [--site URL] [--action OWNER/REPO@REF] [--force]`: a new policy repository.

Writes policies/ (imported from the site when one is given through --site or CONFLUENCE_URL, else the
examples), the three workflows using the published action, .github/CODEOWNERS, .gitignore, README.md and
schemas/policy.schema.json. See docs/commands/init.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reconciler.commands.terminal import connection, progress_shown
from reconciler.errors import ExitCode


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "init",
        help="write a new policy repository (policies, workflows, CODEOWNERS, README)",
        description=(
            "Write a policy repository into DIR: policies/ imported from the site (--site or "
            "CONFLUENCE_URL; read-only) or the examples, the plan/apply/drift workflows using the published "
            "action, .github/CODEOWNERS, .gitignore and a README for the repository's users. Refuses a "
            "non-empty DIR without --force."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the new repository's directory")
    parser.add_argument("--site", default=None, metavar="URL",
                        help="import this site's policy (e.g. sandbox:demo); default CONFLUENCE_URL, else "
                        "the examples")
    parser.add_argument("--action", default=None, metavar="OWNER/REPO@REF",
                        help="the action the workflows use (default: the published action at this "
                        "version's tag; pin a full commit SHA for production)")
    parser.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.flows.init_repo import run_init  # noqa: PLC0415 - keeps `--help` light

    with progress_shown(args.no_progress) as progress, connection(args) as site:
        result = run_init(args.directory, site, site=args.site, action=args.action, force=args.force,
                          progress=progress)
    origin = "imported from the site" if result.imported else "the examples"
    sys.stdout.write(f"wrote {result.directory} ({len(result.files)} files; policies: {origin})\n"
                     f"next: cd {result.directory} && git init && follow README.md\n")
    return int(ExitCode.OK)
