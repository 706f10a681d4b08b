"""The policy directory as a git ref has it (``plan --changed-since REF``).

``git archive REF -- <policy dir relative to the repository root>`` extracted into a temporary directory,
then loaded like any policy. Also where a saved plan's policy directory is recorded: relative to the
repository root (``git rev-parse --show-toplevel``), else to the current directory.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import UsageError


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)  # noqa: S603, S607
    except OSError as err:
        raise UsageError(f"--changed-since needs git: {err.strerror or err}") from None


def repository_root(path: Path) -> Path | None:
    """The git work tree holding ``path`` (a directory), or None outside one."""
    where = path if path.is_dir() else path.parent
    if not where.exists():
        return None
    try:
        found = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=where,  # noqa: S607
                               capture_output=True, check=False, text=True)
    except OSError:
        return None
    return Path(found.stdout.strip()).resolve() if found.returncode == 0 and found.stdout.strip() else None


@contextmanager
def policy_at_ref(policy_dir: Path | str, ref: str) -> Iterator[Path | None]:
    """A temporary copy of ``policy_dir`` as ``ref`` has it (None when ``ref`` has no such directory).

    An unreadable ``ref`` (unknown, or not inside a git repository) is a ``UsageError``: one line."""
    directory = Path(policy_dir).resolve()
    root = repository_root(directory)
    if root is None:
        raise UsageError(f"--changed-since {ref}: {policy_dir} is not inside a git repository")
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise UsageError(f"--changed-since {ref}: not a commit in {root} "
                         "(fetch it first, e.g. `git fetch origin main`)")
    relative = directory.relative_to(root).as_posix()
    tree = _git(root, "archive", "--format=tar", commit.stdout.decode().strip(), "--", relative or ".")
    with tempfile.TemporaryDirectory(prefix="reconciler-ref-") as temp:
        if tree.returncode != 0:  # the directory did not exist at REF
            yield None
            return
        with tarfile.open(fileobj=io.BytesIO(tree.stdout)) as archive:
            archive.extractall(temp, filter="data")
        at_ref = Path(temp, relative) if relative else Path(temp)
        yield at_ref if at_ref.is_dir() else None


def relative_to_repository(path: Path | str) -> str:
    """``path`` relative to its repository root (or the current directory), as a POSIX path."""
    resolved = Path(path).resolve()
    base = repository_root(resolved) or Path.cwd().resolve()
    try:
        return resolved.relative_to(base).as_posix() or "."
    except ValueError:
        return os.fspath(resolved)
