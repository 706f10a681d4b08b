"""The legacy JSON-RPC service ``POST /rpc/json-rpc/confluenceservice-v2`` (evidence/datacenter.md A.11).

JSON-RPC 2.0 envelope without the Remote API ``token`` argument (JSONRPC); gated by the "Remote API" setting
(TFDC: 404/405 when off; ONYX saw 401: knob ``remote_api_off_status``); needs ``X-Atlassian-Token: no-check``
(TFDC jsonrpc.go; the 403 answer is UNVERIFIED); "Secure administrator sessions" answer admin methods with
HTTP 200 and the HTML login page (ONYX; WebSudoRequiredException javadoc). A method the server rejects is
HTTP 200 with an ``error`` member (TFDC); the error texts are UNVERIFIED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.sandbox.datacenter import rules
from reconciler.sandbox.datacenter.api import RPC_PATH, DcCtx, html, route
from reconciler.sandbox.datacenter.state import ANONYMOUS, DcState, DcUser
from reconciler.sandbox.http import Response


class RpcError(Exception):
    def __init__(self, message: str, code: int = -32000) -> None:
        super().__init__(message)
        self.message, self.code = message, code


@route("POST", RPC_PATH)
def json_rpc(ctx: DcCtx) -> Response:  # noqa: PLR0911 - one answer per JSON-RPC failure
    with ctx.site.reading() as state:
        enabled, websudo = state.remote_api_enabled, state.websudo
    if not enabled:
        return html(ctx.site.knobs.remote_api_off_status, "Page Not Found")
    if ctx.request.headers.get("x-atlassian-token", "").lower() != "no-check":
        return Response(403, b"XSRF check failed", {"Content-Type": "text/plain;charset=UTF-8"})
    try:
        call = ctx.request.json()
    except Exception:  # noqa: BLE001 - any unreadable body is a JSON-RPC parse error
        return _answer(None, error=RpcError("Parse error", -32700))
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return _answer(None, error=RpcError("Invalid Request", -32600))
    ident, method, params = call.get("id"), call["method"], call.get("params") or []
    handler = METHODS.get(method)
    if handler is None:
        return _answer(ident, error=RpcError(f"Method not found: {method}", -32601))
    if websudo:
        return html(200, "Administrator Access - Secure administrator sessions: log in again")
    try:
        if ctx.user is None:
            raise RpcError("com.atlassian.confluence.rpc.NotPermittedException: Anonymous users cannot "
                           "manage space permissions")
        if not isinstance(params, list):
            raise RpcError("params must be a list", -32602)
        with ctx.site.writing() if method.startswith(("add", "remove")) else ctx.site.reading() as st:
            result = handler(st, ctx.user, params, ctx.site.knobs.protect_last_admin)
    except RpcError as failure:
        return _answer(ident, error=failure)
    except (TypeError, ValueError, IndexError) as failure:
        return _answer(ident, error=RpcError(f"Invalid params: {failure}", -32602))
    return _answer(ident, result=result)


def _answer(ident: Any, *, result: Any = None, error: RpcError | None = None) -> Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": ident}
    if error is not None:
        body["error"] = {"code": error.code, "message": error.message}
    else:
        body["result"] = result
    return Response.json(200, body)


# ------------------------------------------------------------------------------------- methods
def _space(state: DcState, user: DcUser, key: Any) -> str:
    if not isinstance(key, str) or key not in state.spaces:
        raise RpcError(f"com.atlassian.confluence.rpc.RemoteException: No space found for space key: {key}")
    if not rules.can_administer(state, user, key):
        raise RpcError("com.atlassian.confluence.rpc.NotPermittedException: You're not allowed to view or "
                       "edit the permissions of this space")
    return key


def _op(name: Any) -> str:
    op = rules.OPS_BY_RPC.get(str(name))
    if op is None:
        raise RpcError(f"com.atlassian.confluence.rpc.RemoteException: Unknown permission type {name}")
    return op


def _entity(state: DcState, name: Any) -> str:
    """``remoteEntityName``: a group or a username (PSC); which wins when both exist is UNVERIFIED."""
    if isinstance(name, str) and name in state.groups:
        return f"group:{name}"
    user = state.user_by_name(name) if isinstance(name, str) else None
    if user is None:
        raise RpcError("com.atlassian.confluence.rpc.RemoteException: No user or group with the name: "
                       f"{name}")
    return f"user:{user.key}"


def get_space_permission_sets(state: DcState, user: DcUser, params: list[Any], protect: bool) -> Any:
    """``[{type, spacePermissions: [{type, userName, groupName}]}]``, one set per permission type; anonymous
    has both names null (ONYX space_access.py)."""
    key = _space(state, user, params[0])
    sets: list[dict[str, Any]] = []
    for op, name in rules.RPC_NAMES.items():
        entries: list[dict[str, str | None]] = []
        for subject, held in state.space_rows(key):
            if held != op:
                continue
            kind, _, ident = subject.partition(":")
            username = state.users[ident].username if kind == "user" else None
            group_name = ident if kind == "group" else None
            entries.append({"type": name, "userName": username, "groupName": group_name})
        sets.append({"type": name, "spacePermissions": entries})
    return sets


def _add(state: DcState, key: str, subject: str, ops: list[str], protect: bool) -> bool:
    rules.check_subject_ops(subject, ops)
    rules.grant(state, key, subject, ops)
    return True


def add_permissions(state: DcState, user: DcUser, params: list[Any], protect: bool) -> Any:
    perms, entity, key = params
    return _add(state, _space(state, user, key), _entity(state, entity), [_op(p) for p in perms], protect)


def add_permission(state: DcState, user: DcUser, params: list[Any], protect: bool) -> Any:
    perm, entity, key = params
    return _add(state, _space(state, user, key), _entity(state, entity), [_op(perm)], protect)


def remove_permission(state: DcState, user: DcUser, params: list[Any], protect: bool) -> Any:
    perm, entity, key = params
    space = _space(state, user, key)
    rules.revoke(state, space, _entity(state, entity), [_op(perm)])
    _last_admin(state, space, protect)
    return True


def add_anonymous_permissions(state: DcState, user: DcUser, params: list[Any], protect: bool) -> Any:
    perms, key = params
    return _add(state, _space(state, user, key), ANONYMOUS, [_op(p) for p in perms], protect)


def add_anonymous_permission(state: DcState, user: DcUser, params: list[Any], protect: bool) -> Any:
    perm, key = params
    return _add(state, _space(state, user, key), ANONYMOUS, [_op(perm)], protect)


def remove_anonymous_permission(state: DcState, user: DcUser, params: list[Any], protect: bool) -> Any:
    perm, key = params
    space = _space(state, user, key)
    rules.revoke(state, space, ANONYMOUS, [_op(perm)])
    return True


def _last_admin(state: DcState, space: str, protect: bool) -> None:
    try:
        rules.check_last_admin(state, space, protect)
    except Exception as failure:  # noqa: BLE001 - the REST HttpError becomes a JSON-RPC error
        raise RpcError(f"com.atlassian.confluence.rpc.RemoteException: {failure}") from None


METHODS: dict[str, Callable[[DcState, DcUser, list[Any], bool], Any]] = {
    "getSpacePermissionSets": get_space_permission_sets,
    "addPermissionsToSpace": add_permissions,
    "addPermissionToSpace": add_permission,
    "removePermissionFromSpace": remove_permission,
    "addAnonymousPermissionsToSpace": add_anonymous_permissions,
    "addAnonymousPermissionToSpace": add_anonymous_permission,
    "removeAnonymousPermissionFromSpace": remove_anonymous_permission,
}
