"""The IO around drift and import: load, open a read-only client, read, classify or write files.

``reconciler drift`` calls :func:`run_drift`; ``reconciler import`` calls :func:`run_import`. Both open the
client read-only: any request other than GET raises before it is sent.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.confluence.fetch import fetch_live
from reconciler.confluence.members import fetch_group_members
from reconciler.confluence.session import effective_site_url, open_client
from reconciler.drift.classify import custom_access, detect_drift
from reconciler.drift.findings import DriftReport
from reconciler.drift.importer import SiteSnapshot, render_import
from reconciler.drift.migrate import MigrationPlan, propose_roles
from reconciler.drift.site_read import fetch_users, read_site
from reconciler.errors import ApiError, UsageError
from reconciler.guest_reach import guest_reach
from reconciler.model import PrincipalKind
from reconciler.pipeline import app_policy_notes, with_app_policies
from reconciler.review.build import groups_to_read

if TYPE_CHECKING:
    import httpx

    from reconciler.confluence.client import ConfluenceClient

Progress = Callable[[str], None]


def today_utc() -> date:
    return datetime.now(UTC).date()


def run_drift(
    policy_dir: Path | str,
    *,
    env: Mapping[str, str] = os.environ,
    progress: Progress | None = None,
    today: date | None = None,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> DriftReport:
    """Load the policy, read the site (read-only; missing policy spaces allowed), classify the drift."""
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `drift --help` light

    if progress:
        progress("loading the policy")
    desired = load_policy(policy_dir)
    with open_client(desired.site.url, read_only=True, env=env, transport=transport,
                     state_dir=state_dir) as client:
        client.on_wait = getattr(progress, "waiting", None)
        live = fetch_live(client, desired, progress=progress, allow_missing=True, list_all=True)
        # guest reach is exact through groups: the members of every group holding access, once each
        members = fetch_group_members(client, groups_to_read(desired, live), progress=progress)
        notes = app_policy_notes(desired, env, verb="checked")
        if desired.data_security is not None and not notes:
            live = with_app_policies(desired, live, env, transport=transport, state_dir=state_dir)
        report = detect_drift(desired, live, today=today or today_utc())
        names = display_names(client, report)
    reach = tuple(guest_reach(desired, live, members))
    return dataclasses.replace(report, guest_reach=reach, notes=notes, names=names)


def display_names(client: ConfluenceClient, report: DriftReport) -> dict[str, str]:
    """The site's display name of each user in the report, so the issue shows a name beside each account.

    Names only help the reader: when the site will not say (a 403 on the user API), the report goes without.
    """
    ids = sorted({i.principal.id for i in report.items
                  if i.principal is not None and i.principal.kind is PrincipalKind.USER})
    if not ids:
        return {}
    try:
        users = fetch_users(client, ids)
    except ApiError:
        return {}
    return {account: user.display_name for account, user in users.items() if user.display_name}


# ---------------------------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class ImportResult:
    out: Path
    files: tuple[str, ...]  # relative paths written, sorted
    spaces: int
    people: int
    proposals: MigrationPlan | None


def run_import(
    out: Path,
    *,
    site: str | None = None,
    spaces: Sequence[str] = (),
    propose_roles_too: bool = False,
    force: bool = False,
    actor: str | None = None,
    env: Mapping[str, str] = os.environ,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> ImportResult:
    """Read the site (read-only) and write a policy directory describing it exactly."""
    url = effective_site_url(site or "", env)
    if not url:
        raise UsageError("no site to import: set CONFLUENCE_URL or pass --site (e.g. --site sandbox:demo)")
    _check_out_dir(out, force=force)
    with open_client(url, read_only=True, env=env, transport=transport, state_dir=state_dir) as client:
        snapshot = read_site(client, url, spaces=spaces, actor=actor, progress=progress)
    proposals = import_proposals(snapshot) if propose_roles_too else None
    files = render_import(snapshot, proposals=proposals)
    _write_files(out, files)
    people = len(set(snapshot.users) | {snapshot.actor})
    return ImportResult(out, tuple(sorted(files)), len(snapshot.live.spaces), people, proposals)


def import_proposals(snapshot: SiteSnapshot) -> MigrationPlan | None:
    found = custom_access(snapshot.live, sorted(snapshot.live.spaces))
    if not found:
        return None
    roles = {name: role.permissions for name, role in snapshot.live.roles.items()}
    return propose_roles(found, roles)


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
