"""Every Data Center wire detail in one place, each with its source (keys of evidence/datacenter.md).

What is UNVERIFIED (only a live DC 9.x/10.x can settle it) is marked so; correct it here and nowhere else.
Permission ids inside the tool are DC's own ``operationKey/targetType`` pairs (``restrict/space``,
``delete_own/space``, ``delete_mail/space``); principals are ``user:<username>``, ``group:<name>`` and
``class:anonymous-users``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx

# ------------------------------------------------------------------------------------------- paths
SERVER_INFO = "/rest/api/server-information"  # DC-SI (not /rest/api/serverInfo: 404 on 10.x, ONYX)
CURRENT_USER = "/rest/api/user/current"  # CS-98199 rule: check who we run as (Inference)
USER = "/rest/api/user"  # ?key= / ?username= (CS-100505)
SPACES = "/rest/api/space"  # offset paging (A.4)
GROUPS = "/rest/api/group"
GROUP_MEMBERS_PAGE = 200  # UNVERIFIED (the group list's default)


def group_members_path(group: str) -> str:
    """``/rest/api/group/{groupName}/member``: the Group resource of the DC REST reference (v923
    api-group-group); path, offset paging and ``Person`` items are UNVERIFIED (not in our evidence)."""
    return f"{GROUPS}/{group}/member"
RPC = "/rpc/json-rpc/confluenceservice-v2"  # JSONRPC


def permissions_path(space: str) -> str:
    """``/rest/api/space/{spaceKey}/permissions`` (JD-RES @Path; since 9.1.0)."""
    return f"/rest/api/space/{space}/permissions"


def anonymous_path(space: str) -> str:
    return f"{permissions_path(space)}/anonymous"


def grant_path(space: str, subject: Mapping[str, str], verb: str) -> str | None:
    """``…/{anonymous|user/{userKey}|group/{groupName}}/{grant|revoke}`` (JD-RES); None for a group whose
    name has a '/' (ONYX: neither "a/b" nor "a%2Fb" works in a path): such groups go through POST."""
    if "groupName" in subject:
        name = subject["groupName"]
        return None if "/" in name else f"{permissions_path(space)}/group/{name}/{verb}"
    if "userKey" in subject:
        return f"{permissions_path(space)}/user/{subject['userKey']}/{verb}"
    return f"{permissions_path(space)}/anonymous/{verb}"


# ------------------------------------------------------------------------------------------- limits
MAX_SUBJECTS_PER_POST = 40  # "Maximum 40 different users/groups/anonymous user" (DC-1000)
SPACE_PAGE_LIMIT = 500  # requested; the server's answer says what it used (maximum UNVERIFIED)
REST_SINCE = (9, 1)  # JD-RES, JD-SVC "Since: 9.1.0"; ONYX _MIN_DC_VERSION_FOR_REST_SPACE_PERMISSIONS
BLOCKED_RETRY_AFTER = 86400.0  # a Retry-After this large (DC sends Long.MAX, A.9 #8) means "blocked"

# ------------------------------------------------------------------------------------------- vocabulary
OPERATIONS: tuple[str, ...] = (  # the 14 pairs DC REST accepts (GEN-TS, APA docstrings)
    "read/space", "administer/space", "export/space", "restrict/space", "delete_own/space",
    "delete_mail/space", "create/page", "delete/page", "create/blogpost", "delete/blogpost",
    "create/comment", "delete/comment", "create/attachment", "delete/attachment",
)
RPC_NAMES: Mapping[str, str] = {  # TFDC permission.go, "empirically confirmed against ... 9.2"; PSC
    "read/space": "VIEWSPACE", "create/page": "EDITSPACE", "delete/page": "REMOVEPAGE",
    "create/blogpost": "EDITBLOG", "delete/blogpost": "REMOVEBLOG", "create/comment": "COMMENT",
    "delete/comment": "REMOVECOMMENT", "create/attachment": "CREATEATTACHMENT",
    "delete/attachment": "REMOVEATTACHMENT", "delete_own/space": "REMOVEOWNCONTENT",
    "restrict/space": "SETPAGEPERMISSIONS", "export/space": "EXPORTSPACE",
    "administer/space": "SETSPACEPERMISSIONS", "delete_mail/space": "REMOVEMAIL",
}
OPS_BY_RPC: Mapping[str, str] = {name: op for op, name in RPC_NAMES.items()}


def operation(op: str) -> dict[str, str]:
    """``OperationDescription`` (DC-1000 examples; TFDC restOperationDescription)."""
    key, _, target = op.partition("/")
    return {"operationKey": key, "targetType": target}


def op_of(value: Any) -> str | None:
    """``key/target`` from an ``operation`` object, or None when it is not one."""
    if not isinstance(value, dict):
        return None
    key, target = value.get("operationKey"), value.get("targetType")
    return f"{key}/{target}" if isinstance(key, str) and isinstance(target, str) else None


# ------------------------------------------------------------------------------------------- parsing
def parse_permission_rows(rows: Any) -> list[tuple[str, str, str]]:
    """GET …/permissions -> ``[(kind, id, op)]`` with kind ``user`` (id = userKey), ``group`` (id = name)
    or ``anonymous``. The reference shows ``subject: {displayName, type}``, real output ``name``/``userKey``
    (CS-100505): parsed leniently; rows without an identity are skipped (UNVERIFIED shape)."""
    found: list[tuple[str, str, str]] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        op = op_of(row.get("operation"))
        raw = row.get("subject")
        subject: dict[str, Any] = raw if isinstance(raw, dict) else {}
        kind = str(subject.get("type", "")).lower()
        if op is None:
            continue
        if kind == "user" and subject.get("userKey"):
            found.append(("user", str(subject["userKey"]), op))
        elif kind == "group" and (subject.get("name") or subject.get("groupName")):
            found.append(("group", str(subject.get("name") or subject.get("groupName")), op))
        elif kind == "anonymous":
            found.append(("anonymous", "", op))
    return found


def parse_anonymous(body: Any) -> set[str]:
    """GET …/permissions/anonymous: a flat ``[{operation}]`` list or a nested ``{operations: [...]}``
    envelope, depending on the patch version (ONYX space_access.py)."""
    items: Sequence[Any] = []
    if isinstance(body, dict) and isinstance(body.get("operations"), list):
        items = body["operations"]
    elif isinstance(body, list):
        items = [item.get("operation", item) if isinstance(item, dict) else item for item in body]
    return {op for op in (op_of(item) for item in items) if op is not None}


def parse_rpc_sets(result: Any) -> list[tuple[str, str, str]]:
    """``getSpacePermissionSets`` -> ``[(kind, id, op)]``: users by **username**, groups by name, anonymous
    when both are null (ONYX space_access.py). Unknown permission types (e.g. deprecated EXPORTPAGE) are
    skipped."""
    found: list[tuple[str, str, str]] = []
    for entry in result if isinstance(result, list) else []:
        for perm in entry.get("spacePermissions", []) if isinstance(entry, dict) else []:
            op = OPS_BY_RPC.get(str(perm.get("type") or entry.get("type")))
            if op is None or not isinstance(perm, dict):
                continue
            if perm.get("userName"):
                found.append(("user", str(perm["userName"]), op))
            elif perm.get("groupName"):
                found.append(("group", str(perm["groupName"]), op))
            else:
                found.append(("anonymous", "", op))
    return found


def post_entry(subject: Mapping[str, str], ops: Iterable[str]) -> dict[str, Any]:
    """One ``SpacePermissionsForSubject``: ``{userKey|groupName?, operations}``; anonymous names neither
    (DC-1000 POST example; APA)."""
    return {**subject, "operations": [operation(op) for op in sorted(ops)]}


def rpc_call(method: str, params: Sequence[Any], ident: int) -> dict[str, Any]:
    """JSON-RPC 2.0 without the Remote API ``token`` argument (JSONRPC)."""
    return {"jsonrpc": "2.0", "method": method, "params": list(params), "id": ident}


RPC_READS = frozenset({"getSpacePermissionSets"})  # JSON-RPC methods that only read (allowed read-only)
RPC_HEADERS = {"X-Atlassian-Token": "no-check"}  # TFDC jsonrpc.go: the XSRF check rejects POSTs without it


def version_tuple(version: str) -> tuple[int, int]:
    parts = [int("".join(ch for ch in piece if ch.isdigit()) or 0) for piece in version.split(".")[:2]]
    padded = [*parts, 0, 0]
    return padded[0], padded[1]


# ------------------------------------------------------------------------------------------- answers
def is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "").lower()


def is_route_missing(response: httpx.Response) -> bool:
    """404/405 whose body is not Confluence's JSON envelope (TFDC isRouteNotFound; A.9 #2)."""
    return response.status_code in (404, 405) and not is_json(response)


def is_websudo_page(response: httpx.Response) -> bool:
    """HTTP 200 with an HTML body on a JSON-RPC call: "Secure administrator sessions" (ONYX)."""
    return response.status_code == 200 and "html" in response.headers.get("Content-Type", "").lower()


def is_anonymous(me: Any) -> bool:
    """``/rest/api/user/current`` for a wrong PAT (CS-98199): ``type: anonymous`` or no userKey
    (the anonymous shape is UNVERIFIED beyond that)."""
    return not isinstance(me, dict) or me.get("type") == "anonymous" or not me.get("userKey")


def rate_limit(response: httpx.Response) -> tuple[int | None, float | None, bool]:
    """(remaining, tokens per second, blocked) from ``X-RateLimit-*`` and ``Retry-After`` (RL-DC headers
    page; A.9 #8: a blocked user gets Limit 0, FillRate 0 and Retry-After Long.MAX)."""
    headers = response.headers
    remaining = _int(headers.get("X-RateLimit-Remaining"))
    fill = _int(headers.get("X-RateLimit-FillRate"))
    interval = _int(headers.get("X-RateLimit-Interval-Seconds"))
    rate = fill / interval if fill is not None and interval else None
    retry = _float(headers.get("Retry-After"))
    blocked = response.status_code == 429 and (
        headers.get("X-RateLimit-Limit") == "0" or (retry is not None and retry >= BLOCKED_RETRY_AFTER))
    return remaining, rate, blocked


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
