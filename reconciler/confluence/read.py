"""The whole Cloud read: the live state of the spaces a ``ReadRequest`` names, all or nothing.

DESIGN.md §2, §4.

Calls, with ``limit=250`` everywhere (confluence-api.md §3):

1. ``GET /wiki/api/v2/space-role-mode``; on sites with roles, every page of ``/space-roles`` and of the
   permission catalogue ``/space-permissions``.
2. The spaces in scope: the request's keys through ``/spaces?keys=`` in batches of 250, or, when it has
   selectors (or wants the unmanaged spaces too), every current space (``/spaces?status=current``) once,
   selected locally with ``ReadRequest.in_scope``.
3. The v1 group list (``/wiki/rest/api/group``), to name the group ids the v2 reads return.
4. Per managed space, concurrently: ``/spaces/{id}/role-assignments`` (sites with roles) and
   ``/spaces/{id}/permissions`` (sites with individual permissions). On a ``ROLES_TRANSITION`` site a
   principal's individual permissions count as grants only when it holds no role ("custom access").

Any failed read raises, naming the space; a partly read state never leaves this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from reconciler.backend import ReadRequest
from reconciler.confluence.members import fetch_group_members
from reconciler.confluence.read_protocol import Reader, convert, parse
from reconciler.confluence.vocabulary_read import fetch_accounts, fetch_caller, split_rows
from reconciler.confluence.wire import (
    CataloguePermissionWire,
    GroupWire,
    RoleAssignmentWire,
    RoleModeWire,
    RoleWire,
    SpacePermissionWire,
    SpaceWire,
    WireError,
    WireModel,
    principal_kind,
)
from reconciler.errors import ApiError, NotFoundError, PolicyError, Problem, UsageError
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import Principal, PrincipalKind, RoleMode, SiteModel

log = logging.getLogger(__name__)

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
PAGE = 250  # v2 maximum page size
KEYS_BATCH = 250  # /spaces?keys= accepts at most 250 keys
V1_GROUP_PAGE = 200  # v1 group list maximum
ROLE_MODE_404 = (
    "GET /wiki/api/v2/space-role-mode: 404: the account the tool runs as lacks the 'Can use' global "
    "permission of Confluence, which reading the role mode needs; grant it to that account (or, on a site "
    "without roles, set site.model: legacy)"
)

R = TypeVar("R")
V = TypeVar("V")
W = TypeVar("W", bound=WireModel)
Progress = Callable[[str], None]
_Ref = tuple[PrincipalKind, str]  # (kind, raw id as the API gives it: accountId, group id, class id)


class SpaceNotFoundError(NotFoundError):
    """Policy spaces the site does not show: deleted, or hidden from the account the tool runs as."""

    def _message(self) -> str:
        noun = "spaces" if self.space and "," in self.space else "space"
        return f"{noun} {self.space}: not found: deleted, or hidden from the account the tool runs as"


class RoleModeHiddenError(NotFoundError):
    """``GET space-role-mode`` answered 404, which the spec documents for a caller without permission to
    view the role mode; the permission it needs is the 'Can use' global permission."""

    def _message(self) -> str:
        return ROLE_MODE_404


class RoleListChangedError(ApiError):
    """An assignment names a role id the role list (read first) did not contain: the roles changed while
    reading. Keeping the raw id would plan a change of a role nobody can name; reads are all or nothing."""

    def _message(self) -> str:
        return (f"space {self.space}: role id {self.detail} is not in the site's role list; the roles "
                "changed while reading; run again")


def read_live(client: Reader, request: ReadRequest, progress: Progress | None = None) -> LiveState:
    """The live state of the spaces ``request`` names (see ``ReadRequest``).

    Keys the site does not show raise ``SpaceNotFoundError`` unless ``request.missing_ok`` (then they go
    to ``LiveState.missing``).
    """
    say = progress or _quiet
    say("reading the site's role mode")
    mode = fetch_mode(client, request)
    say("listing roles, spaces and groups")
    roles, catalogue, scope, group_names = _site_wide(client, request, mode)
    if scope.missing and not request.missing_ok:
        raise SpaceNotFoundError("GET", f"{V2}/spaces", 404, space=", ".join(scope.missing))
    raw = _fetch_spaces(client, scope.managed, mode, {r.id: r.name for r in roles.values()}, say)
    named = _name_groups(client, raw, group_names)
    live_spaces = {s.info.key: _to_live_space(s, named, request.people) for s in raw}
    group_ids = _group_ids(request, named, group_names)
    say("looking up accounts")
    seen = {ident for space in raw for (kind, ident) in [*space.assignments, *space.grants, *space.companions]
            if kind is PrincipalKind.USER}
    return LiveState(
        mode=mode,
        roles=roles,
        permissions=catalogue,
        spaces=live_spaces,
        group_ids=group_ids,
        unmanaged=tuple(scope.unmanaged),
        missing=tuple(scope.missing),
        accounts=fetch_accounts(client, seen | request.accounts),
        site_groups=tuple(sorted(set(group_names.values()))),
        caller=fetch_caller(client) if mode is RoleMode.ROLES else None,
        guest_members=_guest_members(client, request, roles, live_spaces, group_ids, say=say),
    )


def _guest_members(client: Reader, request: ReadRequest, roles: Mapping[str, LiveRole],
                   spaces: Mapping[str, LiveSpace], group_ids: Mapping[str, str], *,
                   say: Progress) -> dict[str, tuple[str, ...]] | None:
    """The guests in each group that holds, or that the policy gives, a role above ``guests.max_role`` in
    a managed space (``guest_limit``); None when not asked. All or nothing, like every read."""
    if request.guests is None:
        return None
    held = [(p, role) for space in spaces.values() for p, role in space.assignments.items()]
    names = request.guests.groups_to_read({n: r.permissions for n, r in roles.items()}, held)
    ids = {name: group_ids[name] for name in sorted(names) if name in group_ids}
    if not ids:
        return {}
    say("reading the members of groups that give more than guests.max_role")
    policy_guests = request.guests.guests
    found = fetch_group_members(client, ids)
    guests = {name: tuple(m.account_id for m in group.members if m.guest or m.account_id in policy_guests)
              for name, group in found.items()}
    return {name: ids for name, ids in guests.items() if ids}


# ------------------------------------------------------------------------------------ site-wide reads


def _site_wide(
    client: Reader, request: ReadRequest, mode: RoleMode
) -> tuple[dict[str, LiveRole], frozenset[str], Scope, dict[str, str]]:
    """Roles, the permission catalogue, the scope and the group names: independent, read side by side."""
    jobs: list[Callable[[], object]] = [
        lambda: fetch_roles(client) if mode.has_roles else {},
        lambda: fetch_catalogue(client) if mode.has_roles else frozenset(),
        lambda: fetch_scope(client, request),
        lambda: fetch_group_names(client),
    ]
    roles, catalogue, scope, groups = client.map_concurrently(lambda job: job(), jobs)
    return (
        cast(dict[str, LiveRole], roles),
        cast(frozenset[str], catalogue),
        cast(Scope, scope),
        cast(dict[str, str], groups),
    )


def fetch_mode(client: Reader, request: ReadRequest) -> RoleMode:
    """The site's role mode, checked against the request's site model."""
    path = f"{V2}/space-role-mode"
    try:
        data = client.get_json(path)
    except NotFoundError:
        if request.model is SiteModel.LEGACY:
            return RoleMode.PRE_ROLES  # a site without the roles API at all
        raise RoleModeHiddenError("GET", path, 404) from None
    mode = convert(parse(RoleModeWire, data, path, None).to_model, path, None)
    _check_model(request, mode)
    return mode


def _check_model(request: ReadRequest, mode: RoleMode) -> None:
    model = request.model
    if model is SiteModel.ROLES and not mode.has_roles:
        message = (f"'roles' does not fit this site: it is in {mode.value} mode (individual space "
                   "permissions only); set site.model to legacy or auto")
    elif model is SiteModel.LEGACY and not mode.has_legacy:
        message = (f"'legacy' does not fit this site: it is in {mode.value} mode (roles only, individual "
                   "permissions cannot be read or written); set site.model to roles or auto")
    else:
        return
    source = request.model_source
    if source is None:
        raise UsageError(message)
    raise PolicyError([Problem(source.file, source.line, source.column, message, path="site.model")])


def fetch_roles(client: Reader) -> dict[str, LiveRole]:
    """Every space role (system and custom), by name."""
    path = f"{V2}/space-roles"
    roles = [convert(parse(RoleWire, item, path, None).to_model, path, None)
             for item in client.paginate(path, {"limit": PAGE})]
    return {role.name: role for role in sorted(roles, key=lambda r: r.name)}


def fetch_catalogue(client: Reader) -> frozenset[str]:
    """The ids of the site's space permissions (``read/space``, ...)."""
    path = f"{V2}/space-permissions"
    items = client.paginate(path, {"limit": PAGE})
    return frozenset(parse(CataloguePermissionWire, item, path, None).id for item in items)


def fetch_group_names(client: Reader) -> dict[str, str]:
    """Group id -> name, for every group the v1 group list shows."""
    path = f"{V1}/group"
    items = client.paginate_v1(path, {"limit": V1_GROUP_PAGE})
    groups = [parse(GroupWire, item, path, None) for item in items]
    return {group.id: group.name for group in groups}


# ------------------------------------------------------------------------------------------ the scope


@dataclass(frozen=True, slots=True)
class Scope:
    managed: list[SpaceInfo]
    unmanaged: list[SpaceInfo] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # requested keys the site does not show


def fetch_scope(client: Reader, request: ReadRequest) -> Scope:
    """Which spaces the read covers: the request's keys, the spaces a selector matches, or ``only``."""
    if request.only:
        return _requested_scope(client, request, sorted(set(request.only)))
    explicit = sorted(request.keys)
    if not (request.unmanaged or request.selectors):
        found = {info.key: info for info in fetch_spaces_by_keys(client, explicit)}
        return Scope([found[k] for k in explicit if k in found], [], [k for k in explicit if k not in found])
    listed = {info.key: info for info in fetch_all_spaces(client)}
    unlisted = [key for key in explicit if key not in listed]  # archived, or hidden from the caller
    listed.update((info.key, info) for info in fetch_spaces_by_keys(client, unlisted))
    managed = {info.key for info in listed.values() if request.in_scope(info)}
    return Scope(
        managed=[listed[k] for k in sorted(managed) if k in listed],
        unmanaged=[listed[k] for k in sorted(listed) if k not in managed],
        missing=[k for k in explicit if k not in listed],
    )


def _requested_scope(client: Reader, request: ReadRequest, wanted: list[str]) -> Scope:
    """``only``: the spaces already listed (``request.listed``) and the others through ``keys=``."""
    found = {info.key: info for info in request.listed if info.key in set(wanted)}
    unlisted = [key for key in wanted if key not in found]
    found.update((info.key, info) for info in fetch_spaces_by_keys(client, unlisted))
    unknown = [k for k in wanted if k not in found and k not in request.keys]
    if unknown:
        raise UsageError(
            f"--space {unknown[0]}: no such space on the site, and the policy does not declare it"
        )
    unmanaged = [k for k in wanted if k in found and not request.in_scope(found[k])]
    if unmanaged:
        info = found[unmanaged[0]]
        why = (f"it is {info.status} and only a defaults selector matches it; the whole plan leaves it "
               "alone" if info.status != "current" and request.selected(info)
               else "no spaces: entry and no defaults selector matches it")
        raise UsageError(f"--space {unmanaged[0]}: the policy does not manage this space ({why}); "
                         "nothing was planned")
    return Scope([found[k] for k in wanted if k in found], [], [k for k in wanted if k not in found])


def fetch_spaces_by_keys(client: Reader, keys: Sequence[str]) -> list[SpaceInfo]:
    """The spaces with these keys that the site shows, through ``keys=`` in batches of 250, read side by
    side (40 batches at 10,000 spaces: one after another they cost seconds before any space is read)."""
    path = f"{V2}/spaces"

    def batch(start: int) -> list[SpaceInfo]:
        params = {"keys": ",".join(keys[start : start + KEYS_BATCH]), "limit": PAGE}
        return [parse(SpaceWire, item, path, None).to_model() for item in client.paginate(path, params)]

    return [info for found in client.map_concurrently(batch, range(0, len(keys), KEYS_BATCH))
            for info in found]


def fetch_all_spaces(client: Reader) -> list[SpaceInfo]:
    """Every current space the caller can see."""
    path = f"{V2}/spaces"
    items = client.paginate(path, {"status": "current", "limit": PAGE})
    return [parse(SpaceWire, item, path, None).to_model() for item in items]


# ------------------------------------------------------------------------------------ per-space reads


@dataclass(frozen=True, slots=True)
class _RawSpace:
    info: SpaceInfo
    assignments: dict[_Ref, str]  # -> role name
    grants: dict[_Ref, dict[str, int]]  # -> permission id -> v1 permission id (the lowest)
    duplicates: dict[_Ref, dict[str, tuple[int, ...]]]  # -> permission id -> the other rows' ids
    companions: dict[_Ref, dict[str, int]]  # -> rows that came with a v1 grant


def _fetch_spaces(
    client: Reader, infos: list[SpaceInfo], mode: RoleMode, role_names: Mapping[str, str], say: Progress
) -> list[_RawSpace]:
    lock = threading.Lock()
    done = [0]
    say(f"reading {len(infos)} spaces")

    def read(info: SpaceInfo) -> _RawSpace:
        try:
            space = _fetch_space(client, info, mode, role_names)
        except NotFoundError as exc:  # deleted (or hidden) since it was listed
            raise SpaceNotFoundError(exc.method, exc.path, 404, space=info.key) from None
        with lock:
            done[0] += 1
            count = getattr(say, "count", None)  # a display counts in place; a plain callable gets a line
            if count is not None:
                count(done[0], len(infos), "spaces")
            else:
                say(f"read {done[0]}/{len(infos)} spaces")
        return space

    return client.map_concurrently(read, infos)


def _fetch_space(client: Reader, info: SpaceInfo, mode: RoleMode, role_names: Mapping[str, str]) -> _RawSpace:
    """One space's role assignments and/or individual permissions (1 call, 2 on transition sites)."""
    assignments: dict[_Ref, str] = {}
    rows: dict[_Ref, dict[str, list[int]]] = {}
    if mode.has_roles:
        path = f"{V2}/spaces/{info.id}/role-assignments"
        for item in client.paginate(path, {"limit": PAGE}, space=info.key):
            wire = parse(RoleAssignmentWire, item, path, info.key)
            ref = (_kind(wire.principal.principal_type, path, info.key), wire.principal.principal_id)
            if wire.role_id not in role_names:
                raise RoleListChangedError("GET", path, 200, wire.role_id, space=info.key)
            assignments[ref] = role_names[wire.role_id]
    if mode.has_legacy:
        path = f"{V2}/spaces/{info.id}/permissions"
        for item in client.paginate(path, {"limit": PAGE}, space=info.key):
            perm = parse(SpacePermissionWire, item, path, info.key)
            held = _permission_ref(perm)
            if held is None or held in assignments:
                continue  # a role's own entry, or a principal that holds a role
            rows.setdefault(held, {}).setdefault(perm.permission, []).append(_numeric(perm, path, info.key))
    grants: dict[_Ref, dict[str, int]] = {}
    duplicates: dict[_Ref, dict[str, tuple[int, ...]]] = {}
    companions: dict[_Ref, dict[str, int]] = {}
    for ref, held_rows in rows.items():
        grants[ref], extra, came_with = split_rows(held_rows)
        if extra:
            duplicates[ref] = extra
        if came_with:
            companions[ref] = came_with
    return _RawSpace(info, assignments, grants, duplicates, companions)


def _permission_ref(perm: SpacePermissionWire) -> _Ref | None:
    kind_text = perm.principal.type.lower()
    if kind_text == "role":
        return None
    if kind_text == "anonymous":
        return (PrincipalKind.CLASS, "anonymous-users")
    try:
        kind = principal_kind(kind_text)
    except WireError:
        log.warning("ignoring a space permission of unknown principal type %r", perm.principal.type)
        return None
    if not perm.principal.id:
        return None
    return (kind, perm.principal.id)


# --------------------------------------------------------------------------------------- conversion


def _name_groups(client: Reader, raw: list[_RawSpace], listed: Mapping[str, str]) -> dict[str, str | None]:
    """Every group id seen -> its name, or None when the site cannot name it (a deleted group)."""
    seen = sorted({ident for space in raw for (kind, ident) in [*space.assignments, *space.grants]
                   if kind is PrincipalKind.GROUP})
    names: dict[str, str | None] = {ident: listed[ident] for ident in seen if ident in listed}
    unnamed = [ident for ident in seen if ident not in listed]
    for ident, name in zip(unnamed, client.map_concurrently(lambda i: _group_by_id(client, i), unnamed),
                           strict=True):
        names[ident] = name
    return names


def _group_by_id(client: Reader, ident: str) -> str | None:
    path = f"{V1}/group/by-id"
    try:
        data = client.get_json(path, {"id": ident})
    except NotFoundError:
        return None
    return str(parse(GroupWire, data, path, None).name)


def _to_live_space(raw: _RawSpace, groups: Mapping[str, str | None], labels: Mapping[str, str]) -> LiveSpace:
    def principal(ref: _Ref) -> Principal:
        kind, ident = ref
        if kind is PrincipalKind.GROUP:
            name = groups.get(ident)
            return Principal(kind, name) if name else Principal(kind, ident, unknown=True)
        if kind is PrincipalKind.USER:
            return Principal(kind, ident, label=labels.get(ident))
        return Principal(kind, ident)

    return LiveSpace(
        info=raw.info,
        assignments=_by_principal((principal(ref), role) for ref, role in raw.assignments.items()),
        grants=_by_principal((principal(ref), dict(sorted(h.items()))) for ref, h in raw.grants.items()),
        duplicates=_by_principal((principal(ref), d) for ref, d in raw.duplicates.items()),
        companions=_by_principal((principal(ref), c) for ref, c in raw.companions.items()),
    )


def _by_principal(pairs: Iterable[tuple[Principal, V]]) -> dict[Principal, V]:
    return dict(sorted(pairs, key=lambda pair: pair[0]))


def _group_ids(
    request: ReadRequest, named: Mapping[str, str | None], listed: Mapping[str, str]
) -> dict[str, str]:
    """Group name -> id for the groups seen live or named in the request."""
    ids = {name: ident for ident, name in named.items() if name}
    ids.update((name, ident) for ident, name in listed.items() if name in request.groups)
    return dict(sorted(ids.items()))


# ------------------------------------------------------------------------------------------ helpers


def _quiet(_message: str) -> None:
    return None


def _kind(api_type: str, path: str, space: str) -> PrincipalKind:
    try:
        return principal_kind(api_type)
    except WireError as exc:
        raise ApiError("GET", path, 200, str(exc), space=space) from None


def _numeric(perm: SpacePermissionWire, path: str, space: str) -> int:
    try:
        return perm.numeric_id()
    except WireError as exc:
        raise ApiError("GET", path, 200, str(exc), space=space) from None
