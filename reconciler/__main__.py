"""``python -m reconciler`` and the ``reconciler`` console script.

The CLI is imported inside ``run`` so that Ctrl-C while Python is still importing it (pydantic, httpx,
rich: a few hundred milliseconds on a slow runner) is the same one line and exit code 130 as Ctrl-C
during a command, not a traceback.
"""

import sys

INTERRUPTED = 130  # errors.ExitCode.INTERRUPTED, not imported: the point is to import nothing yet


def run() -> None:
    try:
        from reconciler.cli import main  # noqa: PLC0415 - interruptible start-up (docstring)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(INTERRUPTED)
    sys.exit(main())


if __name__ == "__main__":
    run()
