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
    overlap = sys.modules.get("reconciler.flows.overlap")
    if overlap is not None and overlap.abandoned_reads_running():
        # a read started while the policy loaded was stopped (a policy error, Ctrl-C) and its reader threads
        # still wait for the site (a Retry-After, a slow answer): they only read, and nothing is left to
        # report, so the process ends now instead of waiting for them at interpreter exit
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed or broken stream: main already said what it could
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
