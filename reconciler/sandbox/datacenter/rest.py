"""DC REST routes (``/rest/api/...``, no ``/wiki``): server information, users, groups, spaces and the 9.1
space-permission API (evidence/datacenter.md A.3, A.4, A.6, A.13; sources per handler)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from reconciler.sandbox.datacenter import rules
from reconciler.sandbox.datacenter.api import DcCtx, route
from reconciler.sandbox.datacenter.state import ANONYMOUS, DcSpace, DcState, DcUser
from reconciler.sandbox.failures import HttpError
from reconciler.sandbox.http import Request, Response

P = "/rest/api/space/{spaceKey}/permissions"
SPACE_LIMIT_DEFAULT, SPACE_LIMIT_MAX = 25, 500  # default 25 (pagination doc); the maximum is UNVERIFIED
GROUP_LIMIT_DEFAULT, GROUP_LIMIT_MAX = 200, 1000  # UNVERIFIED


def _require_user(ctx: DcCtx) -> DcUser:
    if ctx.user is None:
        raise HttpError(401, "This resource requires an authenticated user")
    return ctx.user


# ------------------------------------------------------------------------------ site and users
@route("GET", "/rest/api/server-information")
def server_information(ctx: DcCtx) -> Response:
    """DC-SI shape; whether it needs authentication is UNVERIFIED (A.15 #6): required here."""
    _require_user(ctx)
    with ctx.site.reading() as state:
        return Response.json(200, {"baseUrl": ctx.base, "version": state.version,
                                   "buildNumber": state.build_number,
                                   "marketplaceBuildNumber": state.build_number,
                                   "buildDate": "2025-01-01T00:00:00.000Z"})


def user_json(user: DcUser) -> dict[str, Any]:
    """ONYX test mock fields (userKey, username, email, displayName) plus ``type: known``."""
    return {"type": "known", "username": user.username, "userKey": user.key,
            "displayName": user.display_name, "email": user.email, "_links": {}}


@route("GET", "/rest/api/user/current")
def current_user(ctx: DcCtx) -> Response:
    """Anonymous callers get ``type: anonymous`` (CS-98199 makes this the only sign of a wrong PAT)."""
    if ctx.user is None:
        return Response.json(200, {"type": "anonymous", "displayName": "Anonymous", "_links": {}})
    return Response.json(200, user_json(ctx.user))


@route("GET", "/rest/api/user")
def user_lookup(ctx: DcCtx) -> Response:
    """``?key=`` or ``?username=`` (CS-100505; A.4 "Other DC REST"); unknown: JSON 404."""
    _require_user(ctx)
    key, username = ctx.request.param("key"), ctx.request.param("username")
    with ctx.site.reading() as state:
        if key:
            user = state.users.get(key)
        elif username:
            user = state.user_by_name(username)
        else:
            raise HttpError(400, "One of key or username is required")
        if user is None:
            raise HttpError(404, f"No user found with {'key' if key else 'username'} {key or username}")
        return Response.json(200, user_json(user))


@route("GET", "/rest/api/group")
def groups(ctx: DcCtx) -> Response:
    _require_user(ctx)
    with ctx.site.reading() as state:
        items = [{"type": "group", "name": name, "_links": {}} for name in sorted(state.groups)]
    return offset_page(ctx, "/rest/api/group", items, GROUP_LIMIT_DEFAULT, GROUP_LIMIT_MAX, quirk=False)


@route("GET", "/rest/api/group/{groupName}")
def group(ctx: DcCtx) -> Response:
    """A name with '/' never reaches here: the path splits (ONYX: neither "a/b" nor "a%2Fb" works)."""
    _require_user(ctx)
    with ctx.site.reading() as state:
        if ctx.params["groupName"] not in state.groups:
            raise HttpError(404, f"No group found with name {ctx.params['groupName']}")
    return Response.json(200, {"type": "group", "name": ctx.params["groupName"], "_links": {}})


# ------------------------------------------------------------------------------ spaces
def space_json(space: DcSpace, base: str) -> dict[str, Any]:
    return {"id": space.id, "key": space.key, "name": space.name, "type": space.type, "status": space.status,
            "_links": {"webui": f"/display/{space.key}", "self": f"{base}/rest/api/space/{space.key}"}}


@route("GET", "/rest/api/space")
def spaces(ctx: DcCtx) -> Response:
    """Spaces the caller can see, by key, offset paging (A.4); with ``paging_quirk`` the CS-95312 bug."""
    with ctx.site.reading() as state:
        visible = [space_json(s, ctx.base) for s in sorted(state.spaces.values(), key=lambda s: s.key)
                   if rules.can_view_space(state, ctx.user, s.key)]
    return offset_page(ctx, "/rest/api/space", visible, SPACE_LIMIT_DEFAULT, SPACE_LIMIT_MAX,
                       quirk=ctx.site.knobs.paging_quirk)


def offset_page(ctx: DcCtx, path: str, items: list[dict[str, Any]], default: int, maximum: int, *,
                quirk: bool) -> Response:
    """``{results, start, limit, size, _links: {base, context, self, next?}}``. The limit is clamped to the
    maximum (the answer says which). With ``quirk`` (CS-95312/CS-95272): a ``start`` past the end still
    returns the last record, and a full page always claims a ``next`` (Inference)."""
    start = _int(ctx.request, "start", 0)
    limit = max(1, min(_int(ctx.request, "limit", default), maximum))
    page = items[start:start + limit]
    if quirk and not page and items:
        page = items[-1:]
    more = start + limit < len(items) or (quirk and len(page) == limit)
    with ctx.site.reading() as state:
        context = state.context_path
    links = {"base": ctx.base, "context": context, "self": f"{ctx.base}{path}"}
    if more:
        links["next"] = f"{path}?{urlencode({'start': start + limit, 'limit': limit})}"
    return Response.json(200, {"results": page, "start": start, "limit": limit, "size": len(page),
                               "_links": links})


def _int(request: Request, name: str, default: int) -> int:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise HttpError(400, f"{name} must be a non-negative integer")
    return int(raw)


# ------------------------------------------------------------------------------ space permissions (9.1+)
def _space(ctx: DcCtx, state: DcState) -> DcSpace:
    key = ctx.params["spaceKey"]
    space = state.spaces.get(key)
    if space is None:
        raise HttpError(404, f"No space with key : {key}")  # UNVERIFIED message (Cloud v1 wording)
    rules.require_admin(state, ctx.user, key, ctx.site.knobs.non_admin_status)
    return space


def _op(op: str) -> dict[str, str]:
    key, _, target = op.partition("/")
    return {"targetType": target, "operationKey": key}


def _subject_json(state: DcState, subject: str) -> dict[str, Any]:
    """CS-100505 real output: users by ``userKey`` only, groups by ``name``."""
    kind, _, ident = subject.partition(":")
    if kind == "user":
        return {"type": "user", "userKey": ident}
    if kind == "group":
        return {"type": "group", "name": ident}
    return {"type": "anonymous"}


@route("GET", P, since_91=True)
def all_permissions(ctx: DcCtx) -> Response:
    with ctx.site.reading() as state:
        space = _space(ctx, state)
        rows = [{"operation": _op(op), "subject": _subject_json(state, subj), "spaceKey": space.key,
                 "spaceId": space.id}
                for subj, op in state.space_rows(space.key)
                if subj != ANONYMOUS or ctx.site.knobs.inline_anonymous_in_get_all]
    return Response.json(200, rows)


@route("GET", P + "/anonymous", since_91=True)
def anonymous_permissions(ctx: DcCtx) -> Response:
    """Flat ``[{operation}]`` or nested ``{operations: [...]}`` (ONYX: depends on the patch version)."""
    with ctx.site.reading() as state:
        space = _space(ctx, state)
        ops = sorted(state.ops_of(space.key, ANONYMOUS))
    if ctx.site.knobs.anonymous_shape == "nested":
        return Response.json(200, {"operations": [_op(op) for op in ops]})
    return Response.json(200, [{"operation": _op(op), "spaceKey": space.key} for op in ops])


@route("GET", P + "/group/{groupName}", since_91=True)
def group_permissions(ctx: DcCtx) -> Response:
    with ctx.site.reading() as state:
        space = _space(ctx, state)
        subject = _known_group(state, ctx.params["groupName"])
        return _subject_rows(state, space.key, subject)


@route("GET", P + "/user/{userKey}", since_91=True)
def user_permissions(ctx: DcCtx) -> Response:
    with ctx.site.reading() as state:
        space = _space(ctx, state)
        subject = _known_user(state, ctx.params["userKey"])
        return _subject_rows(state, space.key, subject)


def _subject_rows(state: DcState, space: str, subject: str) -> Response:
    who = _subject_json(state, subject)
    ops = sorted(state.ops_of(space, subject))
    rows = [{"operation": _op(op), "subject": who, "spaceKey": space} for op in ops]
    return Response.json(200, rows)


def _known_group(state: DcState, name: str) -> str:
    if name not in state.groups:
        raise HttpError(404, "user or group with specified key not found")  # GEN-TS wording
    return f"group:{name}"


def _known_user(state: DcState, key: str) -> str:
    if key not in state.users:
        raise HttpError(404, "user or group with specified key not found")
    return f"user:{key}"


def _entry_subject(state: DcState, entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("operations"), list):
        raise HttpError(400, "Each entry needs an 'operations' list")
    user_key, group_name = entry.get("userKey"), entry.get("groupName")
    if user_key is not None and group_name is not None:
        raise HttpError(400, "An entry names either userKey or groupName, not both")  # UNVERIFIED
    if user_key is not None:
        return _known_user(state, str(user_key))
    if group_name is not None:
        return _known_group(state, str(group_name))
    return ANONYMOUS  # neither: the anonymous user (APA set_permissions_to_multiple_items_for_space)


def _checked_ops(ctx: DcCtx, subject: str, raw: Any) -> set[str]:
    if not isinstance(raw, list):
        raise HttpError(400, "The body must be a list of operations")
    ops = {rules.check_operation(item) for item in raw}
    rules.check_subject_ops(subject, ops)
    if ctx.site.knobs.require_read and ops and "read/space" not in ops:
        raise HttpError(400, "'read space' permission is required with any other space permission")
    return ops


@route("POST", P, since_91=True)
def set_permissions(ctx: DcCtx) -> Response:
    """Declarative per subject, at most 40 subjects (DC-1000); success 200 with no body (UNVERIFIED)."""
    body = ctx.request.json()
    if not isinstance(body, list):
        raise HttpError(400, "The body must be a list of subjects with their operations")
    if len(body) > rules.MAX_SUBJECTS:
        raise HttpError(400, f"Maximum {rules.MAX_SUBJECTS} different users/groups/anonymous user could be "
                             "passed in the request")  # status and message UNVERIFIED
    with ctx.site.writing() as state:
        space = _space(ctx, state)
        planned: list[tuple[str, set[str]]] = []
        for entry in body:
            subject = _entry_subject(state, entry)
            if subject in {s for s, _ in planned}:
                raise HttpError(400, "A subject appears twice in the request")  # UNVERIFIED
            ops = _checked_ops(ctx, subject, entry["operations"])
            if not ctx.site.knobs.atomic_post:
                rules.set_subject(state, space.key, subject, ops)
            planned.append((subject, ops))
        for subject, ops in planned:
            rules.set_subject(state, space.key, subject, ops)
        rules.check_last_admin(state, space.key, ctx.site.knobs.protect_last_admin)
    return Response(200)


def _change(ctx: DcCtx, subject_of: Any, grant: bool) -> Response:
    body = ctx.request.json()
    with ctx.site.writing() as state:
        space = _space(ctx, state)
        subject = subject_of(state)
        ops = _checked_ops(ctx, subject, body) if grant else {rules.check_operation(i) for i in body or []}
        if grant:
            if ctx.site.knobs.require_read and "read/space" not in ops | state.ops_of(space.key, subject):
                raise HttpError(400, "'read space' permission is required with any other space permission")
            rules.grant(state, space.key, subject, ops)
        else:
            rules.revoke(state, space.key, subject, ops)
            rules.check_last_admin(state, space.key, ctx.site.knobs.protect_last_admin)
    return Response(204)  # "void" in the docs; 204 UNVERIFIED


def _register_changes() -> None:
    """PUT …/{anonymous|group/{groupName}|user/{userKey}}/{grant|revoke} (JD-RES @Path, GEN-TS)."""
    subjects: dict[str, Any] = {
        "/anonymous": lambda ctx: (lambda state: ANONYMOUS),
        "/group/{groupName}": lambda ctx: (lambda state: _known_group(state, ctx.params["groupName"])),
        "/user/{userKey}": lambda ctx: (lambda state: _known_user(state, ctx.params["userKey"])),
    }
    for suffix, maker in subjects.items():
        for verb in ("grant", "revoke"):
            def handler(ctx: DcCtx, maker: Any = maker, verb: str = verb) -> Response:
                return _change(ctx, maker(ctx), verb == "grant")
            route("PUT", f"{P}{suffix}/{verb}", since_91=True)(handler)


_register_changes()
