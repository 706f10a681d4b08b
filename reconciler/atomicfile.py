"""Write a file whole or not at all: a plan file is never left truncated (full disk, Ctrl-C, a crash).

The text is encoded first (a character that cannot be written fails before the file is touched), written to
a temporary file beside the target, synced, then renamed over the target in one step (``os.replace``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8); on any failure ``path`` is as it was and no temporary file
    is left behind. Raises ``OSError`` (or ``UnicodeEncodeError``) for the caller to word."""
    data = text.encode("utf-8")
    folder = path.parent if str(path.parent) else Path()
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _new_file_mode())  # noqa: PTH101 - as open() would create it, not mkstemp's 0600
        if path.exists() and not path.is_file():  # /dev/stdout, a FIFO: write through, do not replace
            Path(temp).unlink()
            path.write_bytes(data)
            return
        Path(temp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise


def _new_file_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask
