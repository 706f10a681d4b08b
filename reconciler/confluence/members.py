"""Group membership, read once per group per run, all or nothing (the access review and guest reach).

The call (confluence-cloud-v1.openapi.2025-11.yaml, ``getGroupByGroupIdMembersByGroupIdV1``;
confluence-api.md §7 "Membership"):

    GET /wiki/rest/api/group/{groupId}/membersByGroupId?start=&limit=   (limit default and maximum 200)

answers a v1 ``UserArray`` (``results``, ``start``, ``limit``, ``size``, ``_links.next``) of ``User``
objects: ``accountId``, ``displayName`` (may equal ``publicName`` under privacy settings), ``isGuest``
(the spec's replacement of the deprecated ``isExternalCollaborator``, read as a fallback). The spec lists
users only: Confluence Cloud groups do not nest, so a member is always a user.

Reads run side by side on the client's bounded pool (``map_concurrently``); the first failure stops the
rest and raises, naming the group: no partial membership ever leaves this module. A group id the site
does not know (404, a deleted group still holding access) is the one exception: it comes back
``missing`` so reports can say its members cannot be named (the 404 for an unknown id is UNVERIFIED: the
spec documents 400 and 403 only; docs/sandbox.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from pydantic import Field

from reconciler.confluence.read_protocol import Reader
from reconciler.confluence.wire import WireError, WireModel
from reconciler.errors import ApiError, NotFoundError
from reconciler.live_state import GroupMembers, Member

V1 = "/wiki/rest/api"
MEMBERS_PAGE = 200  # the documented maximum ("400: Returned if given limit is greater than 200")

Progress = Callable[[str], None]


class MemberWire(WireModel):
    """One ``User`` of a ``UserArray``; entries without an ``accountId`` (type ``anonymous``) are skipped."""

    type: str = "known"
    account_id: str | None = Field(default=None, alias="accountId")
    display_name: str | None = Field(default=None, alias="displayName")
    public_name: str | None = Field(default=None, alias="publicName")
    is_guest: bool | None = Field(default=None, alias="isGuest")
    is_external_collaborator: bool | None = Field(default=None, alias="isExternalCollaborator")

    def to_model(self) -> Member | None:
        if not self.account_id:
            return None
        guest = self.is_guest if self.is_guest is not None else bool(self.is_external_collaborator)
        return Member(self.account_id, self.display_name or self.public_name or "", guest)


class GroupMembersError(ApiError):
    """A membership read failed: the message names the group as well as the call and the status."""

    def __init__(self, cause: ApiError, group: str) -> None:
        self.group = group
        super().__init__(cause.method, cause.path, cause.status, cause.detail)

    def _message(self) -> str:
        status = f"{self.status}" if self.status is not None else "no response"
        detail = f": {self.detail}" if self.detail else ""
        return (f"{self.method} {self.path} (group {self.group}): {status}{detail}; "
                "group members are read all or nothing, so there is no review")


def members_path(group_id: str) -> str:
    return f"{V1}/group/{group_id}/membersByGroupId"


def fetch_group_members(
    client: Reader, groups: Mapping[str, str], *, progress: Progress | None = None
) -> dict[str, GroupMembers]:
    """Group name -> its members, for every group in ``groups`` (name -> id); one paged read per group id."""
    by_id: dict[str, list[str]] = {}
    for name, ident in sorted(groups.items()):
        by_id.setdefault(ident, []).append(name)
    ids = sorted(by_id)
    say = progress or _quiet
    lock = threading.Lock()
    done = [0]
    if ids:
        say(f"reading the members of {len(ids)} groups")

    def read(ident: str) -> GroupMembers:
        name = by_id[ident][0]
        result = read_group(client, name, ident)
        with lock:
            done[0] += 1
            say(f"read {done[0]}/{len(ids)} groups")
        return result

    result: dict[str, GroupMembers] = {}
    for ident, members in zip(ids, client.map_concurrently(read, ids), strict=True):
        for name in by_id[ident]:
            result[name] = GroupMembers(name, ident, members.members, members.missing)
    return dict(sorted(result.items()))


def read_group(client: Reader, name: str, ident: str) -> GroupMembers:
    """Every member of one group (all pages), sorted by account id; ``missing`` when the site answers 404."""
    path = members_path(ident)
    seen: dict[str, Member] = {}
    try:
        for item in client.paginate_v1(path, {"limit": MEMBERS_PAGE}):
            try:
                member = MemberWire.parse(item).to_model()
            except WireError as exc:
                raise ApiError("GET", path, 200, str(exc)) from None
            if member is not None:
                seen[member.account_id] = member
    except NotFoundError:
        return GroupMembers(name, ident, (), missing=True)
    except ApiError as exc:
        raise GroupMembersError(exc, name) from None
    return GroupMembers(name, ident, tuple(sorted(seen.values())))


def _quiet(_message: str) -> None:
    return None
