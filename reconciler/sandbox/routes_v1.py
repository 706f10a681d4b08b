"""Confluence Cloud REST v1 routes: add/remove a space permission, groups and users."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox import rules
from reconciler.sandbox.failures import HttpError, bad_request, forbidden, not_found
from reconciler.sandbox.http import Response, v1_page
from reconciler.sandbox.reshape import reshaped
from reconciler.sandbox.routes import Ctx, route
from reconciler.sandbox.state import Group, SiteState, Space, User

V1 = "/wiki/rest/api"
USER_BULK_MAX = 100  # [spec] v1 2025-11 GET /user/bulk: "Currently this API returns a maximum of 100 results"


def xsrf_guard(ctx: Ctx) -> None:
    """v1 writes need ``X-Atlassian-Token: no-check`` ([2nd] confluence.js MIGRATION.md: "v1 enforces XSRF
    protection on every write: without X-Atlassian-Token: no-check each one answers 403 XSRF check
    failed"; the body's exact form is unverified: the sandbox uses the v1 envelope)."""
    token = ctx.request.headers.get("x-atlassian-token", "")
    if ctx.site.knobs.xsrf_check and token.strip().lower() != "no-check":
        raise forbidden("XSRF check failed")


def _admin_space(ctx: Ctx, state: SiteState) -> Space:
    """The space of a v1 write: 404 if missing or invisible, 403 if the caller is not its admin."""
    key = ctx.params["spaceKey"]
    space = state.space_by_key(key)
    if space is None or not rules.can_view(state, ctx.user, space, ctx.hidden()):
        raise not_found(f"No space with key : {key}")
    if not rules.is_space_admin(state, ctx.user, space):
        raise forbidden(f"The user is not authorized to administer space {key}")
    return space


@route("POST", f"{V1}/space/{{spaceKey}}/permission")
def add_permission(ctx: Ctx) -> Response:
    xsrf_guard(ctx)
    body = ctx.request.json()
    with ctx.site.writing() as state:
        space = _admin_space(ctx, state)
        rules.refuse_in_roles_mode(state)
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object with 'subject' and 'operation'")
        operation = body.get("operation")
        if (
            not isinstance(operation, dict)
            or not isinstance(operation.get("key"), str)
            or not isinstance(operation.get("target"), str)
        ):
            raise bad_request("'operation' with 'key' and 'target' is required")
        principal = rules.v1_subject(state, body.get("subject"))
        perm = rules.v1_grant(state, space, principal, operation["key"], operation["target"])
    subject = body["subject"]
    data = {
        "id": perm.id,
        "subject": {"type": subject["type"], "identifier": subject["identifier"]},
        "operation": {"key": perm.key, "target": perm.target},
        "_links": {"base": ctx.base, "context": "/wiki"},
    }
    return Response.json(200, data)


@route("DELETE", f"{V1}/space/{{spaceKey}}/permission/{{id}}")
def remove_permission(ctx: Ctx) -> Response:
    xsrf_guard(ctx)
    raw = ctx.params["id"]
    with ctx.site.writing() as state:
        space = _admin_space(ctx, state)
        rules.refuse_in_roles_mode(state)
        if not raw.isdigit():
            raise not_found(f"No permission with id {raw} in space {space.key}")
        rules.v1_revoke(state, space, int(raw))
    return Response(204)


# -------------------------------------------------------------------------------------------- groups
def group_json(ctx: Ctx, group: Group) -> dict[str, Any]:
    return {
        "type": "group",
        "name": group.name,
        "id": group.id,
        "_links": {"self": f"{ctx.base}/rest/api/group/by-id?id={group.id}"},
    }


def _required(ctx: Ctx, name: str) -> str:
    value = ctx.request.param(name)
    if not value:
        raise bad_request(f"The query parameter '{name}' is required")
    return value


@route("GET", f"{V1}/group")
def list_groups(ctx: Ctx) -> Response:
    access = ctx.request.param("accessType")
    if access is not None and access not in ("user", "admin", "site-admin"):  # [spec] enum
        raise bad_request(f"Invalid accessType '{access}': expected one of user, admin, site-admin")
    with ctx.site.reading() as state:
        groups = sorted(state.groups.values(), key=lambda g: g.name)
        if access in ("admin", "site-admin"):
            groups = [g for g in groups if g.name == "confluence-administrators"]
        items = reshaped(ctx.site.knobs.reshape, "groups", [group_json(ctx, g) for g in groups])
    return v1_page(ctx.request, ctx.api_path, ctx.base, items, default_limit=200, max_limit=200)


@route("GET", f"{V1}/group/by-id")
def group_by_id(ctx: Ctx) -> Response:
    group_id = _required(ctx, "id")
    with ctx.site.reading() as state:
        group = state.groups.get(group_id)
        if group is None:
            raise not_found(f"Group with id '{group_id}' does not exist")
        return Response.json(200, group_json(ctx, group))


@route("GET", f"{V1}/group/picker")
def group_picker(ctx: Ctx) -> Response:
    query = (ctx.request.param("query") or "").casefold()
    with ctx.site.reading() as state:
        items = [
            group_json(ctx, g)
            for g in sorted(state.groups.values(), key=lambda g: g.name)
            if query in g.name.casefold()
        ]
    return v1_page(ctx.request, ctx.api_path, ctx.base, items, default_limit=200, max_limit=200)


# GET /group/{groupId}/membersByGroupId lives in routes_members.py (the access review's group reads).


# --------------------------------------------------------------------------------------------- users
def user_v1_json(ctx: Ctx, state: SiteState, account_id: str) -> dict[str, Any]:
    user = state.users[account_id]
    return {
        "type": "known",
        "accountId": user.account_id,
        "accountType": user.account_type,
        "email": user.email,
        "publicName": user.display_name,
        "displayName": user.display_name,
        "timeZone": "Etc/UTC",
        "isExternalCollaborator": user.guest,  # [spec] deprecated: "Use isGuest instead"
        "externalCollaborator": user.guest,
        "isGuest": user.guest,  # [spec] v1 2025-11 User/BulkUserLookup
        "profilePicture": {
            "path": "/wiki/aa-avatar/default.png",
            "width": 48,
            "height": 48,
            "isDefault": True,
        },
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {"self": f"{ctx.base}/rest/api/user?accountId={user.account_id}"},
        **_operations(ctx, state, user),
    }


def _operations(ctx: Ctx, state: SiteState, user: User) -> dict[str, Any]:
    """``expand=operations`` ([spec] v1 ``User.operations``: OperationCheckResult). A site admin holds
    ``administer``/``application`` (taking that for "product admin" is an inference: unverified)."""
    if "operations" not in ctx.request.multi("expand"):
        return {}
    ops = [{"operation": "use", "targetType": "application"}]
    if rules.is_site_admin(state, user):
        ops += [{"operation": "create_space", "targetType": "application"},
                {"operation": "administer", "targetType": "application"}]
    return {"operations": ops}


@route("GET", f"{V1}/user")
def get_user(ctx: Ctx) -> Response:
    account_id = _required(ctx, "accountId")
    with ctx.site.reading() as state:
        if account_id not in state.users:
            raise not_found(f"No user with accountId '{account_id}'")
        return Response.json(200, user_v1_json(ctx, state, account_id))


@route("GET", f"{V1}/user/bulk")
def users_bulk(ctx: Ctx) -> Response:
    ids = ctx.request.multi("accountId")
    if not ids:
        raise bad_request("The query parameter 'accountId' is required")
    with ctx.site.reading() as state:  # `limit` is no longer a parameter; at most 100 results
        items = [user_v1_json(ctx, state, i) for i in ids if i in state.users][:USER_BULK_MAX]
        items = reshaped(ctx.site.knobs.reshape, "users", items)
    links = {"base": ctx.base, "context": "/wiki"}
    return Response.json(
        200, {"results": items, "start": 0, "limit": USER_BULK_MAX, "size": len(items), "_links": links}
    )


@route("GET", f"{V1}/user/current")
def current_user(ctx: Ctx) -> Response:
    """[spec] v1 2025-11 ``GET /rest/api/user/current``: the calling user."""
    with ctx.site.reading() as state:
        return Response.json(200, user_v1_json(ctx, state, ctx.user.account_id))


@route("GET", f"{V1}/user/memberof")
def user_member_of(ctx: Ctx) -> Response:
    account_id = _required(ctx, "accountId")
    with ctx.site.reading() as state:
        if account_id not in state.users:
            raise HttpError(404, f"No user with accountId '{account_id}'")
        groups = sorted((state.groups[g] for g in state.member_of(account_id)), key=lambda g: g.name)
        items = [group_json(ctx, g) for g in groups]
    return v1_page(ctx.request, ctx.api_path, ctx.base, items, default_limit=200, max_limit=200)
