"""``reconciler drift``: load the policy, read the site read-only (missing policy spaces allowed, every
space listed), classify the drift, name the users in it, add the guests' reach.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from reconciler.backend import Backend, Progress
from reconciler.drift.classify import detect_drift
from reconciler.drift.findings import DriftReport
from reconciler.drift.guest_reach import guest_reach
from reconciler.errors import ApiError
from reconciler.flows.connect import Connection
from reconciler.flows.live import app_policy_notes, request_for, with_app_policies
from reconciler.model import PrincipalKind
from reconciler.review.build import groups_to_read


def today_utc() -> date:
    return datetime.now(UTC).date()


def run_drift(
    policy_dir: Path | str,
    connection: Connection,
    *,
    progress: Progress | None = None,
    today: date | None = None,
    skip_data_security: bool = False,
    spaces: Sequence[str] = (),
) -> DriftReport:
    """Load the policy, read the site (read-only; missing policy spaces allowed), classify the drift
    (``spaces``: only these space keys; unmanaged spaces and the org's data security are then left out)."""
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `drift --help` light

    if progress:
        progress("loading the policy")
    desired = load_policy(policy_dir)
    site = connection.open(desired.site.url, read_only=True, platform=desired.site.platform,
                           jsonrpc=desired.site.allow_jsonrpc,
                           detect=desired.site.platform_auto)
    site.on_wait(getattr(progress, "waiting", None))
    scope = tuple(dict.fromkeys(spaces))
    live = site.read(request_for(desired, only=scope, missing_ok=True, unmanaged=not scope, guests=False),
                     progress)
    # guest reach is exact through groups: the members of every group holding access, once each
    members = site.read_group_members(groups_to_read(desired, live), progress)
    notes = app_policy_notes(desired, connection, scope, verb="checked", skip=skip_data_security)
    if desired.data_security is not None and not notes:
        live = with_app_policies(site, desired, live)
    report = detect_drift(desired, live, today=today or today_utc(), scope=scope)
    names = display_names(site, report)
    reach = tuple(guest_reach(desired, live, members))
    return dataclasses.replace(report, guest_reach=reach, notes=notes, names=names)


def display_names(site: Backend, report: DriftReport) -> dict[str, str]:
    """The site's display name of each user in the report, so the issue shows a name beside each account.

    Names only help the reader: when the site will not say (a 403 on the user API), the report goes without.
    """
    ids = sorted({i.principal.id for i in report.items
                  if i.principal is not None and i.principal.kind is PrincipalKind.USER})
    if not ids:
        return {}
    try:
        users = site.read_users(ids)
    except ApiError:
        return {}
    return {account: user.display_name for account, user in users.items() if user.display_name}
