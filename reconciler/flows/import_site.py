"""``reconciler import``: read the site (read-only) and write a policy directory describing it exactly."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.backend import Progress
from reconciler.drift.migrate import MigrationPlan
from reconciler.errors import UsageError
from reconciler.flows.connect import Connection
from reconciler.importer.files import SiteSnapshot, render_import
from reconciler.importer.snapshot import busiest_admin, import_proposals, import_request, users_seen
from reconciler.policy.platform import platform_of_url
from reconciler.vocabulary import without_apps


@dataclass(frozen=True, slots=True)
class ImportResult:
    out: Path
    files: tuple[str, ...]  # relative paths written, sorted
    spaces: int
    people: int
    proposals: MigrationPlan | None


def run_import(
    out: Path,
    connection: Connection,
    *,
    site: str | None = None,
    spaces: Sequence[str] = (),
    propose_roles_too: bool = False,
    force: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    jsonrpc: bool = False,
) -> ImportResult:
    """Read the site (read-only) and write a policy directory describing it exactly."""
    url = connection.site_url(site or "")
    if not url:
        raise UsageError("no site to import: set CONFLUENCE_URL or pass --site (e.g. --site sandbox:demo)")
    _check_out_dir(out, force=force)
    backend = connection.open(url, read_only=True, jsonrpc=jsonrpc)
    live = without_apps(backend.read(import_request(spaces), progress))  # apps' users are not people
    account = actor or backend.current_account() or busiest_admin(live)
    if account is None:
        raise UsageError("cannot tell which account the tool runs as (no admin in the imported spaces): "
                         "pass --actor ACCOUNT_ID")
    seen = users_seen(live)
    if progress:
        progress(f"naming {len(seen)} users")
    users = backend.read_users(sorted(set(seen) | {account}))
    snapshot = SiteSnapshot(url=url, live=live, users=users, actor=account, platform=platform_of_url(url),
                            jsonrpc=jsonrpc)
    proposals = import_proposals(snapshot) if propose_roles_too else None
    files = render_import(snapshot, proposals=proposals)
    _write_files(out, files)
    people = len(set(snapshot.users) | {snapshot.actor})
    return ImportResult(out, tuple(sorted(files)), len(snapshot.live.spaces), people, proposals)


def _check_out_dir(out: Path, *, force: bool) -> None:
    """Refuse an --out that cannot take the files before reading the site (it is created if missing)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    try:
        if out.is_dir() and any(out.iterdir()) and not force:
            raise UsageError(f"--out {out}: directory is not empty; pass --force to overwrite its files")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot create the directory: {err.strerror or err}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write into the directory: Permission denied")


def _write_files(out: Path, files: Mapping[str, str]) -> None:
    root = out.resolve()
    for relative, text in sorted(files.items()):
        path = out / relative
        if not path.resolve().is_relative_to(root) or ".." in Path(relative).parts:  # never outside --out
            raise UsageError(f"--out {out}: refusing to write {relative!r} outside the directory")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as err:
            raise UsageError(f"--out {out}: cannot write {relative}: {err.strerror or err}") from None
