"""Confluence Cloud REST v2 routes: spaces, space permissions, the catalogue, roles, role assignments."""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.model import DEFAULT_ROLES
from reconciler.sandbox import rules
from reconciler.sandbox.catalogue import catalogue
from reconciler.sandbox.failures import HttpError, bad_request, not_found
from reconciler.sandbox.http import Response, v2_page
from reconciler.sandbox.reshape import reshaped
from reconciler.sandbox.routes import Ctx, route, space_by_id
from reconciler.sandbox.state import PrincipalKey, Role, SiteState, Space

V2 = "/wiki/api/v2"
MAX_BODY = 5 * 1024 * 1024  # role assignments: "413 if the request is too large in size (over 5 MB)"
_SORTS = {"id": lambda s: s.id, "key": lambda s: s.key, "name": lambda s: s.name.casefold()}
# [spec] v2 2026-04 GET /spaces: SpaceType and SpaceStatus enums
SPACE_TYPES = ("global", "collaboration", "knowledge_base", "personal", "system", "onboarding",
               "xflow_sample_space")
SPACE_STATUSES = ("current", "archived")


def space_json(space: Space) -> dict[str, Any]:
    return {
        "id": str(space.id),
        "key": space.key,
        "name": space.name,
        "type": space.type,
        "status": space.status,
        "authorId": space.author_id,
        "createdAt": space.created_at,
        "homepageId": str(space.id + 1),
        # description and icon are objects in the spec: left out (not asked for), never null
        "_links": {"webui": f"/spaces/{space.key}"},
    }


def role_json(role: Role) -> dict[str, Any]:
    # [spec] 2026-04 SpaceRole: "name" (the 2025-01 "displayName" is gone)
    return {
        "id": role.id,
        "type": role.type,
        "name": role.name,
        "description": role.description,
        "spacePermissions": list(role.permissions),
    }


def visible_space(ctx: Ctx, state: SiteState, raw_id: str) -> Space:
    space = space_by_id(state, raw_id)
    if not rules.can_view(state, ctx.user, space, ctx.hidden()):
        raise not_found(f"No space with id {raw_id}")
    return space


def require_rbac(state: SiteState) -> None:
    if state.mode == "PRE_ROLES":
        raise not_found("Space roles are not available on this site (role mode PRE_ROLES)")


# ----------------------------------------------------------------------------------------------- spaces
@route("GET", f"{V2}/spaces")
def list_spaces(ctx: Ctx) -> Response:
    req = ctx.request
    ids, keys = req.multi("ids"), req.multi("keys")
    if len(ids) > 250 or len(keys) > 250:
        raise bad_request("At most 250 ids and 250 keys may be given")
    if not all(i.isdigit() for i in ids):
        raise bad_request("'ids' must be integers")
    space_type, status, sort = req.param("type"), req.param("status"), req.param("sort") or "id"
    if sort.lstrip("-") not in _SORTS:
        raise bad_request(f"Invalid sort '{sort}': expected one of id, key, name (optionally with '-')")
    if space_type is not None and space_type not in SPACE_TYPES:
        raise bad_request(f"Invalid type '{space_type}': expected one of {', '.join(SPACE_TYPES)}")
    if status is not None and status not in SPACE_STATUSES:
        raise bad_request(f"Invalid status '{status}': expected one of {', '.join(SPACE_STATUSES)}")
    with ctx.site.reading() as state:
        found = [
            s
            for s in state.spaces.values()
            if (not ids or str(s.id) in ids)
            and (not keys or s.key in keys)
            and (space_type is None or s.type == space_type)
            and (status is None or s.status == status)
            and rules.can_view(state, ctx.user, s, ctx.hidden())
        ]
        found.sort(key=_SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
        items = reshaped(ctx.site.knobs.reshape, "spaces", [space_json(s) for s in found])
    return v2_page(req, ctx.api_path, ctx.base, items)


@route("GET", f"{V2}/spaces/{{id}}")
def get_space(ctx: Ctx) -> Response:
    with ctx.site.reading() as state:
        return Response.json(200, space_json(visible_space(ctx, state, ctx.params["id"])))


@route("GET", f"{V2}/spaces/{{id}}/permissions")
def list_space_permissions(ctx: Ctx) -> Response:
    with ctx.site.reading() as state:
        space = visible_space(ctx, state, ctx.params["id"])
        items = [
            {
                "id": str(p.id),
                "principal": _v2_principal(p.principal),
                "operation": {"key": p.key, "targetType": p.target},
            }
            for _, p in sorted(space.permissions.items())
        ]
    items = reshaped(ctx.site.knobs.reshape, "permissions", items)
    return v2_page(ctx.request, ctx.api_path, ctx.base, items)


def _v2_principal(principal: PrincipalKey) -> dict[str, str]:
    # "access-class" is not in the spec's enum (user|group|role); live reads show it ([2nd] folio-sec overlay)
    kind = {"USER": "user", "GROUP": "group"}.get(principal[0], "access-class")
    return {"type": kind, "id": principal[1]}


@route("GET", f"{V2}/space-permissions")
def list_catalogue(ctx: Ctx) -> Response:
    with ctx.site.reading() as state:
        require_rbac(state)
        items = catalogue(state)
    return v2_page(ctx.request, ctx.api_path, ctx.base, items)


@route("GET", f"{V2}/space-role-mode")
def get_role_mode(ctx: Ctx) -> Response:
    if ctx.site.knobs.role_mode_not_found:  # [spec] 404: no permission to view the space role mode
        raise not_found("The calling user does not have permission to view the space role mode")
    with ctx.site.reading() as state:
        return Response.json(200, {"mode": state.mode})


# ---------------------------------------------------------------------------------------------- roles
def _principal_filter(ctx: Ctx) -> PrincipalKey | None:
    pid, ptype = ctx.request.param("principal-id"), ctx.request.param("principal-type")
    if (pid is None) != (ptype is None):
        raise bad_request("'principal-id' and 'principal-type' must be given together")
    if pid is None or ptype is None:
        return None
    if ptype not in rules.PRINCIPAL_TYPES:
        raise bad_request(f"Invalid principal-type '{ptype}': expected one of USER, GROUP, ACCESS_CLASS")
    return (ptype, pid)


def _role_type_filter(ctx: Ctx) -> str | None:
    role_type = ctx.request.param("role-type")
    if role_type is not None and role_type not in ("SYSTEM", "CUSTOM"):
        raise bad_request(f"Invalid role-type '{role_type}': expected SYSTEM or CUSTOM")
    return role_type


def _role_order(role: Role) -> tuple[int, int, str]:
    system_rank = DEFAULT_ROLES.index(role.name) if role.name in DEFAULT_ROLES else len(DEFAULT_ROLES)
    return (0 if role.type == "SYSTEM" else 1, system_rank, role.name.casefold())


@route("GET", f"{V2}/space-roles")
def list_roles(ctx: Ctx) -> Response:
    role_type, principal = _role_type_filter(ctx), _principal_filter(ctx)
    space_id = ctx.request.param("space-id")
    with ctx.site.reading() as state:
        require_rbac(state)
        spaces = (
            [visible_space(ctx, state, space_id)] if space_id is not None else list(state.spaces.values())
        )
        roles = sorted(state.roles.values(), key=_role_order)
        if role_type is not None:
            roles = [r for r in roles if r.type == role_type]
        if principal is not None:
            held = {s.assignments.get(principal) for s in spaces}
            roles = [r for r in roles if r.id in held]
        items = reshaped(ctx.site.knobs.reshape, "roles", [role_json(r) for r in roles])
    return v2_page(ctx.request, ctx.api_path, ctx.base, items)


@route("GET", f"{V2}/space-roles/{{id}}")
def get_role(ctx: Ctx) -> Response:
    with ctx.site.reading() as state:
        require_rbac(state)
        role = state.roles.get(ctx.params["id"])
        if role is None:
            raise not_found(f"No space role found with id '{ctx.params['id']}'")
        return Response.json(200, {**role_json(role), "_links": {"base": ctx.base}})


def _require_site_admin(ctx: Ctx, state: SiteState, action: str) -> None:
    require_rbac(state)
    if not rules.is_site_admin(state, ctx.user):
        raise not_found(f"The calling user does not have permission to {action} space roles")


@route("POST", f"{V2}/space-roles")
def create_role(ctx: Ctx) -> Response:
    body = ctx.request.json()
    with ctx.site.writing() as state:
        _require_site_admin(ctx, state, "create")
        new_id = str(uuid.uuid5(uuid.UUID(state.cloud_id), f"role:{len(state.roles)}:{body!r}"))
        role = rules.create_role(state, body, new_id, ctx.site.knobs)
        return Response.json(201, role_json(role))


@route("PUT", f"{V2}/space-roles/{{id}}")
def update_role(ctx: Ctx) -> Response:
    """[spec] 202 ``{id, type, name, description, taskId}``; the change runs as a task ([2nd] folio-sec:
    "Updates and deletes are asynchronous"; a null taskId for an unchanged role or a description-only
    change)."""
    body = ctx.request.json()
    with ctx.site.writing() as state:
        _require_site_admin(ctx, state, "update")
        task_id = str(uuid.uuid4())
        pending = rules.update_role(state, ctx.params["id"], body, ctx.site.knobs, task_id)
        role = pending or state.roles[ctx.params["id"]]
        data = {
            "id": role.id,
            "type": role.type,
            "name": role.name,
            "description": role.description,
            "taskId": task_id if pending is not None else None,
        }
        return Response.json(202, data)


@route("DELETE", f"{V2}/space-roles/{{id}}")
def delete_role(ctx: Ctx) -> Response:
    with ctx.site.writing() as state:
        _require_site_admin(ctx, state, "delete")
        task_id = str(uuid.uuid4())
        rules.delete_role(state, ctx.params["id"], ctx.site.knobs, task_id)
        return Response.json(202, {"taskId": task_id})


# ----------------------------------------------------------------------------------- role assignments
def assignment_json(principal: PrincipalKey, role_id: str) -> dict[str, Any]:
    return {"principal": {"principalType": principal[0], "principalId": principal[1]}, "roleId": role_id}


@route("GET", f"{V2}/spaces/{{id}}/role-assignments")
def list_assignments(ctx: Ctx) -> Response:
    role_type, principal = _role_type_filter(ctx), _principal_filter(ctx)
    role_id = ctx.request.param("role-id")
    with ctx.site.reading() as state:
        require_rbac(state)
        space = visible_space(ctx, state, ctx.params["id"])
        items = [
            assignment_json(p, r)
            for p, r in sorted(space.assignments.items())
            if (role_id is None or r == role_id)
            and (principal is None or p == principal)
            and (role_type is None or (r in state.roles and state.roles[r].type == role_type))
        ]
    items = reshaped(ctx.site.knobs.reshape, "role-assignments", items)
    return v2_page(ctx.request, ctx.api_path, ctx.base, items)


@route("POST", f"{V2}/spaces/{{id}}/role-assignments")
def set_assignments(ctx: Ctx) -> Response:
    if len(ctx.request.body) > MAX_BODY:
        raise HttpError(413, "The request is too large in size (over 5 MB)")
    entries = parse_assignment_body(ctx.request.json())
    with ctx.site.writing() as state:
        require_rbac(state)
        space = space_by_id(state, ctx.params["id"])
        if not rules.can_view(state, ctx.user, space, ctx.hidden()) or not rules.is_space_admin(
            state, ctx.user, space
        ):
            raise not_found(
                "The calling user does not have permission to set roles in the space, "
                "or the space was not found"
            )
        rules.set_assignments(state, space, entries, ctx.site.knobs)
        items = [assignment_json(p, r) for p, r in entries if r is not None]
    return Response.json(200, {"results": items, "_links": {"base": ctx.base}})


def parse_assignment_body(body: object) -> list[tuple[PrincipalKey, str | None]]:
    """[spec] 2026-04: an array of ``{principal (required), roleId?}``; the 2025-01 single object is 400."""
    if not isinstance(body, list):
        raise bad_request("The request body must be an array of role assignments")
    entries = body
    parsed: list[tuple[PrincipalKey, str | None]] = []
    for index, entry in enumerate(entries):
        principal = entry.get("principal") if isinstance(entry, dict) else None
        if (
            not isinstance(principal, dict)
            or not isinstance(principal.get("principalType"), str)
            or not isinstance(principal.get("principalId"), str)
        ):
            raise bad_request(
                f"Entry {index}: 'principal' with 'principalType' and 'principalId' is required"
            )
        assert isinstance(entry, dict)
        role_id = entry.get("roleId")
        if role_id is not None and not isinstance(role_id, str):
            raise bad_request(f"Entry {index}: 'roleId' must be a string")
        parsed.append(((principal["principalType"], principal["principalId"]), role_id))
    return parsed


# --------------------------------------------------------------------------------------------- users
@route("POST", f"{V2}/users-bulk")
def users_bulk(ctx: Ctx) -> Response:
    body = ctx.request.json()
    ids = body.get("accountIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 250 or not all(isinstance(i, str) for i in ids):
        raise bad_request("'accountIds' must be an array of 1 to 250 account ids")
    with ctx.site.reading() as state:
        items = [user_v2_json(state, i) for i in ids if i in state.users]
    return Response.json(
        200, {"results": items, "_links": {"base": ctx.base}}, {"Link": f'<{ctx.base}>; rel="base"'}
    )


def user_v2_json(state: SiteState, account_id: str) -> dict[str, Any]:
    user = state.users[account_id]
    personal = state.space_by_key(f"~{account_id}")
    return {
        "accountId": user.account_id,
        "accountType": user.account_type,
        "accountStatus": "active",
        "displayName": user.display_name,
        "publicName": user.display_name,
        "email": user.email,
        "isExternalCollaborator": user.guest,
        "isGuest": user.guest,
        "timeZone": "Etc/UTC",
        "personalSpaceId": str(personal.id) if personal else None,
        "profilePicture": {
            "path": "/wiki/aa-avatar/default.png",
            "width": 48,
            "height": 48,
            "isDefault": True,
        },
    }
