"""DC group membership: ``GET /rest/api/group/{groupName}/member?start=&limit=`` (the access review).

Source: the Confluence Data Center REST reference's Group resource (the v923 ``api-group-group`` page that
docs/evidence/datacenter.md cites for the group list); the member path, its paging and its ``Person``
objects are not captured in our evidence, so all three are UNVERIFIED: offset paging as the group list
(default 200, clamped to 1000 like ``/rest/api/group``), users shaped as ``/rest/api/user`` answers them
(``type``, ``username``, ``userKey``, ``displayName``). An unknown group is 404. Members are users: DC
groups do not nest in the REST model either. Kept apart from rest.py so the group-read surface is in one
place.
"""

from __future__ import annotations

from reconciler.sandbox.datacenter.api import DcCtx, route
from reconciler.sandbox.datacenter.rest import GROUP_LIMIT_DEFAULT, GROUP_LIMIT_MAX, offset_page, user_json
from reconciler.sandbox.failures import HttpError
from reconciler.sandbox.http import Response


@route("GET", "/rest/api/group/{groupName}/member")
def group_members(ctx: DcCtx) -> Response:
    name = ctx.params["groupName"]
    with ctx.site.reading() as state:
        if name not in state.groups:
            raise HttpError(404, f"No group found with name {name}")
        items = [user_json(state.users[key]) for key in state.groups[name] if key in state.users]
    return offset_page(ctx, f"/rest/api/group/{name}/member", items, GROUP_LIMIT_DEFAULT, GROUP_LIMIT_MAX,
                       quirk=False)
