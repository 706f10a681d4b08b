"""The command line: parse, call one pipeline function, map errors to exit codes.

Each command lives in its own module under ``reconciler/commands/`` and exposes
``register(subparsers) -> None``; the parser it adds sets ``func=run`` where ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler import __version__
from reconciler.commands import convention
from reconciler.errors import ExitCode, PolicyError, ReconcilerError
from reconciler.report.escape import data

if TYPE_CHECKING:
    from reconciler.flows.connect import Connection

COMMANDS: tuple[str, ...] = (
    "validate",
    "plan",
    "show",
    "apply",
    "drift",
    "access",
    "import_",
    "init",
    "doctor",
    "schema",
    "codeowners",
    "sandbox",
)


class _Parser(argparse.ArgumentParser):
    """argparse that exits 1 on usage errors (DESIGN.md §5), with a short usage line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}{convention.suggestion(self, message)}\n")
        raise SystemExit(ExitCode.ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconciler",
        description="Permissions as code for Confluence: validate, plan, apply and drift-check space access.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks of unexpected errors (before or after the command)")
    convention.add_global_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"reconciler.commands.{name}")
        module.register(sub)
    convention.add_exit_codes(parser, sub)
    return parser


def main(argv: Sequence[str] | None = None, *, connection: Connection | None = None) -> int:
    """Run one command; ``connection`` replaces the one built from the environment (tests)."""
    if sys.stdout is None:  # started with stdout closed (>&-): nothing could show the report
        _say("error: standard output is closed; run with stdout open (redirect it to a file or /dev/null)")
        return int(ExitCode.ERROR)
    try:
        return _main(argv, connection)
    except KeyboardInterrupt:  # also during start-up (imports, parsing) and while reporting an error
        _say("interrupted")
        return int(ExitCode.INTERRUPTED)


def _main(argv: Sequence[str] | None, connection: Connection | None) -> int:
    _tolerant_streams()
    parser = build_parser()
    rest, flags = convention.split_global(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(rest)
    convention.apply_global(args, flags)
    args.connection = connection
    debug = bool(args.debug or os.environ.get("RECONCILER_DEBUG"))
    try:
        with convention.no_color("--no-color" in flags):
            code = int(args.func(args))
        sys.stdout.flush()  # a full disk shows here, while it can still be reported
        return code
    except PolicyError as err:
        for problem in err.problems:
            sys.stderr.write(f"{data(str(problem))}\n")
        return int(err.exit_code)
    except ReconcilerError as err:
        sys.stderr.write(f"error: {_lines(str(err))}\n")
        return int(err.exit_code)
    except OSError as err:
        if err.errno not in _OUTPUT_ERRNOS:
            return _bug(err, debug)
        _silence_stdout()
        _say(f"error: cannot write the output: {err.strerror or err}")
        return int(ExitCode.ERROR)
    except Exception as err:  # noqa: BLE001 - the one place that turns a bug into exit code 3
        return _bug(err, debug)


# a write to stdout or stderr that cannot be done: full disk or quota, closed pipe or descriptor, I/O error
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EPIPE, errno.EBADF, errno.EIO, errno.EFBIG})


def _bug(err: Exception, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    sys.stderr.write(
        f"internal error: {type(err).__name__}: {err} -- this is a bug in reconciler; "
        "rerun with --debug for the traceback and report it\n"
    )
    return int(ExitCode.BUG)


def _tolerant_streams() -> None:
    """Text that the terminal's encoding cannot show (a non-UTF-8 locale, ``PYTHONIOENCODING=ascii``) is
    written as backslash escapes instead of failing the run."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    """After stdout failed, point it at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _lines(message: str) -> str:
    """A message as data on the terminal: each of its own lines escaped (a name from the site cannot add a
    control byte or start a line with a workflow command such as ``::error::``)."""
    return "\n".join(map(data, message.split("\n")))


def _say(line: str) -> None:
    """One line on stderr, if there is a stderr to write it to."""
    try:
        if sys.stderr is not None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
