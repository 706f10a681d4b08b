"""Write a file whole or not at all: a plan file is never left truncated (full disk, Ctrl-C, a crash).

The text is encoded and written to a temporary file beside the target (a character that cannot be written
fails before the target is touched), synced, then renamed over the target in one step (``os.replace``).
It may come in pieces (``write_chunks_atomically``), so a large plan never exists as one string or buffer.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_chunks_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Replace ``path`` with the concatenated ``chunks`` (UTF-8, each encoded as it comes); on any failure
    ``path`` is as it was and no temporary file is left behind. Raises ``OSError`` (or
    ``UnicodeEncodeError``) for the caller to word."""
    folder = path.parent if str(path.parent) else Path()
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _new_file_mode())  # noqa: PTH101 - as open() would create it, not mkstemp's 0600
        if path.exists() and not path.is_file():  # /dev/stdout, a FIFO: write through, do not replace
            with Path(temp).open("rb") as source, path.open("wb") as target:
                shutil.copyfileobj(source, target)
            Path(temp).unlink()
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
