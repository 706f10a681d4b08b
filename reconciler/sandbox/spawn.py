"""Run ``reconciler sandbox serve`` in a child process and read what it prints (for tests and benchmarks).

The server prints ``NAME=value`` lines (``CONFLUENCE_URL``, ``CONFLUENCE_EMAIL``, ...) and then a
``counters:`` line; once that line is read the server is accepting connections.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_VARIABLE = re.compile(r"\s+([A-Z_]+)=(\S+)")


@contextmanager
def spawned_server(
    *serve_args: str, cwd: Path | None = None, stop_timeout: float = 30.0
) -> Iterator[dict[str, str]]:
    """``sandbox serve --port 0 <serve_args>``: yields the variables it printed; stops it on exit."""
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *serve_args]
    # the command is this interpreter running this package, with arguments from our own callers
    proc = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd
    )
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    try:
        for line in proc.stdout:
            match = _VARIABLE.match(line)
            if match:
                printed[match.group(1)] = match.group(2)
            if line.strip().startswith("counters:"):
                break
        yield printed
    finally:
        proc.terminate()
        proc.wait(timeout=stop_timeout)
        proc.stdout.close()
