"""The command line: parse, call one pipeline function, map errors to exit codes.

Each command lives in its own module under ``reconciler/commands/`` and exposes
``register(subparsers) -> None``; the parser it adds sets ``func=run`` where ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from reconciler import __version__
from reconciler.errors import ExitCode, PolicyError, ReconcilerError

COMMANDS: tuple[str, ...] = (
    "validate",
    "plan",
    "apply",
    "drift",
    "access",
    "import_",
    "schema",
    "codeowners",
    "sandbox",
)


class _Parser(argparse.ArgumentParser):
    """argparse that exits 1 on usage errors (DESIGN.md §5), with a short usage line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(ExitCode.ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconciler",
        description="Permissions as code for Confluence: validate, plan, apply and drift-check space access.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"reconciler.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(args.debug or os.environ.get("RECONCILER_DEBUG"))
    try:
        return int(args.func(args))
    except PolicyError as err:
        for problem in err.problems:
            sys.stderr.write(f"{problem}\n")
        return int(err.exit_code)
    except ReconcilerError as err:
        sys.stderr.write(f"error: {err}\n")
        return int(err.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except Exception as err:  # noqa: BLE001 - the one place that turns a bug into exit code 3
        if debug:
            traceback.print_exc()
        sys.stderr.write(
            f"internal error: {type(err).__name__}: {err} -- this is a bug in reconciler; "
            "rerun with --debug for the traceback and report it\n"
        )
        return int(ExitCode.BUG)


def run() -> None:
    sys.exit(main())
