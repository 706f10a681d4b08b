"""`reconciler schema [--check] [--out PATH]`: write the policy JSON Schema from the pydantic models.

``--check`` writes nothing and exits 1 when the file differs from what the models produce.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reconciler.errors import ExitCode, UsageError

DEFAULT_OUT = Path("schemas/policy.schema.json")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "schema",
        help="write schemas/policy.schema.json from the policy models",
        description="Write the JSON Schema of a policy file (for editors: the files' "
        "'# yaml-language-server: $schema=...' line). With --check, only verify it is current.",
    )
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the schema file is missing or stale")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="PATH",
                        help=f"where the schema is written or checked (default: {DEFAULT_OUT}; -: stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reconciler.policy.schema import json_schema_text  # noqa: PLC0415 - pydantic, not for `--help`

    out: Path = args.out
    expected = json_schema_text()
    if str(out) == "-":
        if args.check:
            raise UsageError("schema --check compares a file: give --out PATH, not -")
        sys.stdout.write(expected)
        return int(ExitCode.OK)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current == expected:
            sys.stdout.write(f"{out} is up to date\n")
            return int(ExitCode.OK)
        state = "is missing" if current is None else "is stale"
        sys.stderr.write(f"{out} {state}: run `reconciler schema` and commit the result\n")
        return int(ExitCode.ERROR)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(expected, encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")
    return int(ExitCode.OK)
