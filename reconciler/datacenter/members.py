"""DC group membership for the access review: ``GET /rest/api/group/{groupName}/member``, once per group,
all or nothing (the path, paging and user shape are UNVERIFIED: ``wire.group_members_path``).

DC names users by username (``read.py``), so a member is ``Member(username, displayName)``; DC has no guests.
A group name holding ``/`` cannot travel in a path (evidence/datacenter.md: "neither test/group nor
test%2Fgroup works"), so its members come back ``missing`` (reports say they cannot be named) rather than
failing the whole read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.members import GroupMembersError
from reconciler.datacenter import wire
from reconciler.errors import ApiError, NotFoundError
from reconciler.live_state import GroupMembers, Member

Progress = Callable[[str], None]


def fetch_dc_group_members(
    client: ConfluenceClient, groups: Mapping[str, str], progress: Progress | None = None
) -> dict[str, GroupMembers]:
    """Group name -> members, for every group in ``groups`` (name -> name: DC groups have no ids)."""
    names = sorted(groups)
    if progress and names:
        progress(f"reading the members of {len(names)} groups")
    found = client.map_concurrently(lambda name: _read(client, name), names)
    return dict(zip(names, found, strict=True))


def _read(client: ConfluenceClient, name: str) -> GroupMembers:
    if "/" in name:
        return GroupMembers(name, name, (), missing=True)
    path = wire.group_members_path(quote(name, safe=""))
    seen: dict[str, Member] = {}
    try:
        for item in client.paginate_v1(path, {"limit": wire.GROUP_MEMBERS_PAGE}):
            username = item.get("username") if isinstance(item, dict) else None
            if isinstance(username, str) and username:
                seen[username] = Member(username, str(item.get("displayName") or ""))
    except NotFoundError:
        return GroupMembers(name, name, (), missing=True)
    except ApiError as exc:
        raise GroupMembersError(exc, name) from None
    return GroupMembers(name, name, tuple(sorted(seen.values())))
