"""``python -m reconciler`` and the ``reconciler`` console script.

The CLI is imported inside ``run`` so that Ctrl-C while Python is still importing it (pydantic, httpx,
rich: a few hundred milliseconds on a slow runner) is the same one line and exit code 130 as Ctrl-C
during a command, not a traceback.
"""

import contextlib
import os
import sys

INTERRUPTED = 130  # errors.ExitCode.INTERRUPTED, not imported: the point is to import nothing yet


def run() -> None:
    try:
        from reconciler.cli import main  # noqa: PLC0415 - interruptible start-up (docstring)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(INTERRUPTED)
    code = main()
    # Everything the command says is written, and every file it writes is closed (atomically renamed) before
    # main returns. The process then ends at once: tearing down a finished plan's objects (a live state, a
    # policy and a plan of thousands of spaces) took ~0.1 s at 1,000 spaces (docs/performance.md), and a read
    # stopped early (a policy error, Ctrl-C) may still have reader threads waiting for a slow site or out a
    # Retry-After: they only read, and nothing is left to report.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken stream: main already said what it could
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
