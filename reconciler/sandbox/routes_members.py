"""Group membership by group id: ``GET /wiki/rest/api/group/{groupId}/membersByGroupId``.

Source: confluence-cloud-v1.openapi.2025-11.yaml (``getGroupByGroupIdMembersByGroupIdV1``): ``start``
(default 0), ``limit`` (default 200; "400: Returned if given limit is greater than 200"),
``shouldReturnTotalSize`` (adds ``totalSize``), ``expand``; answers a ``UserArray`` of ``User`` objects,
which carry ``isGuest`` (and the deprecated ``isExternalCollaborator``). Members are users only: Cloud
groups do not nest. Members are listed in the order they were added (UNVERIFIED: the spec names no
order). An unknown group id answers 404 (UNVERIFIED: the spec lists 400 and 403 only; docs/sandbox.md).
Kept apart from routes_v1.py so the group-read surface is in one place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, overload

from reconciler.sandbox.failures import bad_request, not_found
from reconciler.sandbox.http import Response, v1_page
from reconciler.sandbox.routes import Ctx, route
from reconciler.sandbox.routes_v1 import V1, user_v1_json
from reconciler.sandbox.state import SiteState

MAX_LIMIT = 200


class _Members(Sequence[dict[str, Any]]):
    """The group's members as v1 users, built only for the page asked for (a group may have thousands)."""

    def __init__(self, ctx: Ctx, state: SiteState, accounts: list[str]) -> None:
        self._ctx, self._state, self._accounts = ctx, state, accounts

    def __len__(self) -> int:
        return len(self._accounts)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [user_v1_json(self._ctx, self._state, a) for a in self._accounts[index]]
        return user_v1_json(self._ctx, self._state, self._accounts[index])


@route("GET", f"{V1}/group/{{groupId}}/membersByGroupId")
def members_by_group_id(ctx: Ctx) -> Response:
    raw_limit = ctx.request.param("limit")
    if raw_limit is not None and raw_limit.isdigit() and int(raw_limit) > MAX_LIMIT:
        raise bad_request(f"The limit must not be greater than {MAX_LIMIT}, got {raw_limit}")
    group_id = ctx.params["groupId"]
    with ctx.site.reading() as state:
        group = state.groups.get(group_id)
        if group is None:
            raise not_found(f"Group with id '{group_id}' does not exist")
        items = _Members(ctx, state, [m for m in group.members if m in state.users])
    response = v1_page(ctx.request, ctx.api_path, ctx.base, items, default_limit=MAX_LIMIT,
                       max_limit=MAX_LIMIT)
    if (ctx.request.param("shouldReturnTotalSize") or "").lower() == "true":
        body = json.loads(response.body)
        response = Response.json(200, {**body, "totalSize": len(items)})
    return response
