"""Read the live state of the managed scope, all or nothing (DESIGN.md §2, §4).

Calls, with ``limit=250`` everywhere (confluence-api.md §3):

1. ``GET /wiki/api/v2/space-role-mode``; on sites with roles, every page of ``/space-roles`` and of the
   permission catalogue ``/space-permissions``.
2. The spaces in scope: the policy's keys through ``/spaces?keys=`` in batches of 250, or, when a
   ``defaults`` selector exists, every current space (``/spaces?status=current``) selected locally.
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
from dataclasses import dataclass
from typing import TypeVar, cast

from reconciler.confluence.reader import PAGE, V1, V2, Reader, convert, parse
from reconciler.confluence.scope import Scope, fetch_all_spaces, fetch_scope, fetch_spaces_by_keys
from reconciler.confluence.vocabulary_read import fetch_accounts, fetch_caller, split_rows
from reconciler.confluence.wire import (
    CataloguePermissionWire,
    GroupWire,
    RoleAssignmentWire,
    RoleModeWire,
    RoleWire,
    SpacePermissionWire,
    WireError,
    principal_kind,
)
from reconciler.errors import ApiError, NotFoundError, PolicyError, Problem, UsageError
from reconciler.model import (
    DesiredState,
    LiveRole,
    LiveSpace,
    LiveState,
    Principal,
    PrincipalKind,
    RoleMode,
    SiteModel,
    SpaceInfo,
)

log = logging.getLogger(__name__)

__all__ = [
    "Reader",
    "RoleListChangedError",
    "SpaceNotFoundError",
    "fetch_all_spaces",
    "fetch_catalogue",
    "fetch_group_names",
    "fetch_live",
    "fetch_mode",
    "fetch_roles",
    "fetch_spaces_by_keys",
]

V1_GROUP_PAGE = 200  # v1 group list maximum
ROLE_MODE_404 = (
    "GET /wiki/api/v2/space-role-mode: 404: the account the tool runs as lacks the 'Can use' global "
    "permission of Confluence, which reading the role mode needs; grant it to that account (or, on a site "
    "without roles, set site.model: legacy)"
)

V = TypeVar("V")
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


def fetch_live(
    client: Reader,
    desired: DesiredState,
    *,
    spaces: Sequence[str] = (),
    progress: Progress | None = None,
    allow_missing: bool = False,
    list_all: bool = False,
) -> LiveState:
    """The live state of the policy's managed spaces (or of ``spaces`` only).

    ``allow_missing``: policy spaces the site does not show go to ``LiveState.missing`` instead of
    raising ``SpaceNotFoundError`` (drift). ``list_all``: list every current space even without a
    ``defaults`` selector, so ``LiveState.unmanaged`` is complete (drift).
    """
    say = progress or _quiet
    say("reading the site's role mode")
    mode = fetch_mode(client, desired)
    say("listing roles, spaces and groups")
    roles, catalogue, scope, group_names = _site_wide(
        client, desired, mode, spaces, list_all=list_all or bool(desired.defaults)
    )
    if scope.missing and not allow_missing:
        raise SpaceNotFoundError("GET", f"{V2}/spaces", 404, space=", ".join(scope.missing))
    raw = _fetch_spaces(client, scope.managed, mode, {r.id: r.name for r in roles.values()}, say)
    named = _name_groups(client, raw, group_names)
    live_spaces = {s.info.key: _to_live_space(s, named, _labels(desired)) for s in raw}
    say("looking up accounts")
    seen = {ident for space in raw for (kind, ident) in [*space.assignments, *space.grants, *space.companions]
            if kind is PrincipalKind.USER}
    return LiveState(
        mode=mode,
        roles=roles,
        permissions=catalogue,
        spaces=live_spaces,
        group_ids=_group_ids(desired, raw, named, group_names),
        unmanaged=tuple(scope.unmanaged),
        missing=tuple(scope.missing),
        accounts=fetch_accounts(client, seen | _policy_accounts(desired)),
        site_groups=tuple(sorted(set(group_names.values()))),
        caller=fetch_caller(client) if mode is RoleMode.ROLES else None,
    )


# ------------------------------------------------------------------------------------ site-wide reads


def _site_wide(
    client: Reader, desired: DesiredState, mode: RoleMode, spaces: Sequence[str], *, list_all: bool
) -> tuple[dict[str, LiveRole], frozenset[str], Scope, dict[str, str]]:
    """Roles, the permission catalogue, the scope and the group names: independent, read side by side."""
    jobs: list[Callable[[], object]] = [
        lambda: fetch_roles(client) if mode.has_roles else {},
        lambda: fetch_catalogue(client) if mode.has_roles else frozenset(),
        lambda: fetch_scope(client, desired, spaces, list_all=list_all),
        lambda: fetch_group_names(client),
    ]
    roles, catalogue, scope, groups = client.map_concurrently(lambda job: job(), jobs)
    return (
        cast(dict[str, LiveRole], roles),
        cast(frozenset[str], catalogue),
        cast(Scope, scope),
        cast(dict[str, str], groups),
    )


def fetch_mode(client: Reader, desired: DesiredState) -> RoleMode:
    """The site's role mode, checked against ``site.model``."""
    path = f"{V2}/space-role-mode"
    try:
        data = client.get_json(path)
    except NotFoundError:
        if desired.site.model is SiteModel.LEGACY:
            return RoleMode.PRE_ROLES  # a site without the roles API at all
        raise RoleModeHiddenError("GET", path, 404) from None
    mode = convert(parse(RoleModeWire, data, path, None).to_model, path, None)
    _check_model(desired, mode)
    return mode


def _check_model(desired: DesiredState, mode: RoleMode) -> None:
    model = desired.site.model
    if model is SiteModel.ROLES and not mode.has_roles:
        message = (f"'roles' does not fit this site: it is in {mode.value} mode (individual space "
                   "permissions only); set site.model to legacy or auto")
    elif model is SiteModel.LEGACY and not mode.has_legacy:
        message = (f"'legacy' does not fit this site: it is in {mode.value} mode (roles only, individual "
                   "permissions cannot be read or written); set site.model to roles or auto")
    else:
        return
    source = desired.site.source
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
    desired: DesiredState, raw: list[_RawSpace], named: Mapping[str, str | None], listed: Mapping[str, str]
) -> dict[str, str]:
    """Group name -> id for the groups seen live or referenced by the policy."""
    ids = {name: ident for ident, name in named.items() if name}
    referenced = _referenced_groups(desired)
    ids.update((name, ident) for ident, name in listed.items() if name in referenced)
    return dict(sorted(ids.items()))


def _policy_accounts(desired: DesiredState) -> set[str]:
    """Every account id the policy names (people, user principals, protected), to look up."""
    principals: list[Principal] = [*desired.safety.protected]
    for space in desired.spaces.values():
        principals += [a.principal for a in space.assignments] + [g.principal for g in space.grants]
    for rule in desired.defaults:
        principals += [a.principal for a in rule.assignments]
    named = {p.id for p in principals if p.kind is PrincipalKind.USER and p.id not in ("-", "anonymous")}
    return named | {person.account_id for person in desired.people.values()}


def _referenced_groups(desired: DesiredState) -> set[str]:
    principals: list[Principal] = [*desired.safety.protected]
    for space in desired.spaces.values():
        principals += [a.principal for a in space.assignments] + [g.principal for g in space.grants]
    for rule in desired.defaults:
        principals += [a.principal for a in rule.assignments]
    return {p.id for p in principals if p.kind is PrincipalKind.GROUP}


def _labels(desired: DesiredState) -> dict[str, str]:
    return {person.account_id: handle for handle, person in desired.people.items()}


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
