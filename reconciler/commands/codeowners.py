"""`reconciler codeowners`: write CODEOWNERS from the owners: in the policy, or check that it is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reconciler.errors import ExitCode

DEFAULT_OUT = ".github/CODEOWNERS"
MAX_DIFF_LINES = 60


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "codeowners",
        help="generate CODEOWNERS from owners: in the policy (or --check that it is current)",
        description=(
            "Generate CODEOWNERS from the policy: each policies/spaces/<KEY>.yaml belongs to the owners: of "
            "space KEY; every other policy file, the policy directory as a whole and the CODEOWNERS file "
            "itself belong to site.owners. Offline; needs no credentials."
        ),
    )
    parser.add_argument("policy_dir", nargs="?", default="policies", metavar="POLICY_DIR",
                        help="the policy directory (default: policies)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the file is missing or not what would be generated")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="FILE",
                        help=f"the CODEOWNERS file (default: {DEFAULT_OUT}); '-' prints it to stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # codeowners and the loader pull pydantic and the YAML parser: not for `reconciler --help`
    from reconciler.codeowners import build_codeowners, layout_for, regenerate_command  # noqa: PLC0415
    from reconciler.policy.loader import load_policy  # noqa: PLC0415

    policy_dir = Path(args.policy_dir)
    desired = load_policy(policy_dir)
    to_stdout = args.out == "-"
    out = Path(DEFAULT_OUT if to_stdout else args.out)
    command = regenerate_command(args.policy_dir, str(out), DEFAULT_OUT)
    generated = build_codeowners(desired, layout_for(policy_dir, out, desired), command=command)
    for note in generated.notes:
        sys.stderr.write(f"warning: {note}\n")
    if to_stdout:
        sys.stdout.write(generated.text)
        return int(ExitCode.OK)
    if args.check:
        return _check(out, generated.text, command)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(generated.text, encoding="utf-8")
    sys.stdout.write(f"wrote {out} ({len(generated.rules)} rules)\n")
    return int(ExitCode.OK)


def _check(out: Path, expected: str, command: str) -> int:
    from reconciler.codeowners import stale_diff  # noqa: PLC0415 - see run

    current = out.read_text(encoding="utf-8") if out.is_file() else None
    diff = stale_diff(current, expected, name=str(out))
    if not diff:
        sys.stdout.write(f"{out} is up to date\n")
        return int(ExitCode.OK)
    for line in diff[:MAX_DIFF_LINES]:
        sys.stderr.write(f"{line}\n")
    if len(diff) > MAX_DIFF_LINES:
        sys.stderr.write(f"... {len(diff) - MAX_DIFF_LINES} more diff lines\n")
    state = "does not exist" if current is None else "is stale"
    sys.stderr.write(f"error: {out} {state}: run `{command}` and commit the result\n")
    return int(ExitCode.ERROR)
