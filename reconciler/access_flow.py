"""The IO around ``reconciler access``: load the policy, read the site read-only (spaces, then the members
of every group holding access, once each), build the review. The review itself is pure (``review/``).

Read-only and all or nothing: the client refuses any request other than GET, and a failed read of a space
or of a group's members raises; there is no partial review.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.confluence.fetch import fetch_live
from reconciler.confluence.members import fetch_group_members
from reconciler.confluence.session import open_client
from reconciler.errors import UsageError
from reconciler.pipeline import display_url, site_url
from reconciler.review import Review, build_review, groups_to_read

if TYPE_CHECKING:
    import httpx

Progress = Callable[[str], None]


def run_access(
    policy_dir: Path | str,
    *,
    spaces: Sequence[str] = (),
    persons: Sequence[str] = (),
    names: bool = False,
    env: Mapping[str, str] = os.environ,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> Review:
    """The access review of the policy's managed spaces (only ``spaces``; only ``persons``)."""
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `access --help` light

    desired = load_policy(policy_dir)
    unknown = [p for p in persons if p not in desired.people and ":" not in p and not _looks_like_id(p)]
    if unknown:
        raise UsageError(f"--person {unknown[0]}: not a handle in the policy's people; give a handle or "
                         "an account id")
    scope = tuple(dict.fromkeys(spaces))
    with open_client(desired.site.url, read_only=True, env=env, transport=transport,
                     state_dir=state_dir) as client:
        live = fetch_live(client, desired, spaces=scope, progress=progress)
        members = fetch_group_members(client, groups_to_read(desired, live), progress=progress)
    return build_review(desired, live, members, site=display_url(site_url(desired, env)), names=names,
                        spaces=scope, persons=persons)


def _looks_like_id(value: str) -> bool:
    """An Atlassian account id: 24 hex digits, or ``<number>:<uuid>`` (confluence-api.md §7)."""
    return len(value) >= 20 and all(c.isalnum() or c in ":-" for c in value)
