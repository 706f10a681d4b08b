"""``reconciler access``: load the policy, read the site read-only (spaces, then the members of every group
holding access, once each), build the review. The review itself is pure (``review/``).

Read-only and all or nothing: the site is opened read-only, and a failed read of a space or of a group's
members raises; there is no partial review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.backend import Backend, Progress
from reconciler.errors import UsageError
from reconciler.flows.connect import Connection
from reconciler.flows.live import request_for
from reconciler.live_state import GroupMembers, LiveState, Member
from reconciler.model import PrincipalKind
from reconciler.review import Review, build_review, groups_to_read


def run_access(
    policy_dir: Path | str,
    connection: Connection,
    *,
    spaces: Sequence[str] = (),
    persons: Sequence[str] = (),
    names: bool = False,
    progress: Progress | None = None,
) -> Review:
    """The access review of the policy's managed spaces (only ``spaces``; only ``persons``)."""
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `access --help` light

    desired = load_policy(policy_dir)
    unknown = [p for p in persons if p not in desired.people and ":" not in p and not _looks_like_id(p)]
    if unknown:
        raise UsageError(f"--person {unknown[0]}: not a handle in the policy's people; give a handle or "
                         "an account id")
    scope = tuple(dict.fromkeys(spaces))
    site = connection.open(desired.site.url, read_only=True)
    live = site.read(request_for(desired, only=scope, guests=False), progress)
    members = site.read_group_members(groups_to_read(desired, live), progress)
    users = _direct_users(site, live, members)
    return build_review(desired, live, members, site=connection.display_url(desired.site.url), names=names,
                        spaces=scope, persons=persons, users=users)


def _direct_users(site: Backend, live: LiveState, members: Mapping[str, GroupMembers]) -> dict[str, Member]:
    """The site's name and guest flag of each person assigned directly whom no group read named (one
    batched user read; all or nothing like every other read): guests assigned directly are exact too."""
    known = {m.account_id for group in members.values() for m in group.members}
    ids = sorted({p.id for space in live.spaces.values() for p in [*space.assignments, *space.grants]
                  if p.kind is PrincipalKind.USER and not p.unknown} - known)
    if not ids:
        return {}
    return {account: Member(account, user.display_name, user.guest)
            for account, user in site.read_users(ids).items()}


def _looks_like_id(value: str) -> bool:
    """An Atlassian account id: 24 hex digits, or ``<number>:<uuid>`` (confluence-api.md §7)."""
    return len(value) >= 20 and all(c.isalnum() or c in ":-" for c in value)
