"""The per-space part of the Cloud read: each managed space's role assignments and individual
permissions, read side by side, and their conversion to ``LiveSpace`` (group ids named, users labelled).

Per managed space: ``/spaces/{id}/role-assignments`` (sites with roles) and ``/spaces/{id}/permissions``
(sites with individual permissions). On a ``ROLES_TRANSITION`` site a principal's individual permissions
count as grants only when it holds no role ("custom access").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from reconciler.backend import Progress, ReadRequest
from reconciler.confluence.read_protocol import Reader, parse
from reconciler.confluence.read_site import PAGE, V1, V2, SpaceNotFoundError
from reconciler.confluence.vocabulary_read import split_rows
from reconciler.confluence.wire import (
    GroupWire,
    RoleAssignmentWire,
    SpacePermissionWire,
    WireError,
    principal_kind,
)
from reconciler.errors import ApiError, NotFoundError
from reconciler.live_state import LiveSpace, SpaceInfo
from reconciler.model import Principal, PrincipalKind, RoleMode

log = logging.getLogger(__name__)

V = TypeVar("V")
_Ref = tuple[PrincipalKind, str]  # (kind, raw id as the API gives it: accountId, group id, class id)


class RoleListChangedError(ApiError):
    """An assignment names a role id the role list (read first) did not contain: the roles changed while
    reading. Keeping the raw id would plan a change of a role nobody can name; reads are all or nothing."""

    def _message(self) -> str:
        return (f"space {self.space}: role id {self.detail} is not in the site's role list; the roles "
                "changed while reading; run again")


class ReadStoppedError(Exception):
    """The reads were stopped from outside (the policy they were started for did not load)."""


# ------------------------------------------------------------------------------------ per-space reads


@dataclass(frozen=True, slots=True)
class RawSpace:
    info: SpaceInfo
    assignments: dict[_Ref, str]  # -> role name
    grants: dict[_Ref, dict[str, int]]  # -> permission id -> v1 permission id (the lowest)
    duplicates: dict[_Ref, dict[str, tuple[int, ...]]]  # -> permission id -> the other rows' ids
    companions: dict[_Ref, dict[str, int]]  # -> rows that came with a v1 grant

    def users(self) -> set[str]:
        """The account ids of the users this space's assignments and permissions name."""
        return users_of([self])


def users_of(spaces: Iterable[RawSpace]) -> set[str]:
    """The account ids of the users the assignments and permissions of ``spaces`` name (one set)."""
    found: set[str] = set()
    user = PrincipalKind.USER
    for space in spaces:
        found.update(ident for (kind, ident) in space.assignments if kind is user)
        for refs in (space.grants, space.companions):
            if refs:  # most spaces of a roles site have none
                found.update(ident for (kind, ident) in refs if kind is user)
    return found


class Tally:
    """Spaces read out of ``total``, for the progress display; shared by the reads of one phase."""

    def __init__(self, total: int, say: Progress) -> None:
        self.total = total
        self.done = 0
        self._say = say
        self._lock = threading.Lock()

    def fewer(self, count: int) -> None:
        """``count`` of the spaces counted in ``total`` will not be read (the site does not show them)."""
        with self._lock:
            self.total -= count

    def tick(self) -> None:
        with self._lock:
            self.done += 1
            count = getattr(self._say, "count", None)  # a display counts in place; a plain callable: a line
            if count is not None:
                count(self.done, self.total, "spaces")
            else:
                self._say(f"read {self.done}/{self.total} spaces")


def fetch_spaces(
    client: Reader,
    infos: list[SpaceInfo],
    mode: RoleMode,
    role_names: Mapping[str, str],
    say: Progress,
    *,
    into: dict[str, RawSpace] | None = None,
    vanished: dict[str, ApiError] | None = None,
    stop: Callable[[], bool] | None = None,
    tally: Tally | None = None,
    noted: Callable[[RawSpace], None] | None = None,
) -> list[RawSpace]:
    """Each space of ``infos``, side by side; the first failure stops the rest.

    ``into``: also record each space there as soon as it is read, so what was read before a failure is
    kept (the start part of a read, ``read.py``). ``vanished``: a space that answers 404 goes there
    instead of raising (a key known from a file name that the policy may not manage). ``stop``: checked
    before each space; when it says so, the reads end with ``ReadStoppedError``. ``tally``: the count of
    a phase these reads are part of (else they are a phase of their own, "reading N spaces"). ``noted``:
    told of each space as soon as it is read."""
    lock = threading.Lock()
    if tally is None:
        say(f"reading {len(infos)} spaces")
        tally = Tally(len(infos), say)
    counted = tally

    def read(info: SpaceInfo) -> RawSpace | None:
        if stop is not None and stop():
            raise ReadStoppedError
        try:
            space = fetch_space(client, info, mode, role_names)
        except NotFoundError as exc:  # deleted (or hidden) since it was listed
            gone = SpaceNotFoundError(exc.method, exc.path, 404, space=info.key)
            if vanished is None:
                raise gone from None
            with lock:
                vanished[info.key] = gone
            counted.fewer(1)
            return None
        if into is not None:
            with lock:
                into[info.key] = space
        if noted is not None:
            noted(space)
        counted.tick()
        return space

    return [space for space in client.map_concurrently(read, infos) if space is not None]


def fetch_space(client: Reader, info: SpaceInfo, mode: RoleMode, role_names: Mapping[str, str]) -> RawSpace:
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
    return RawSpace(info, assignments, grants, duplicates, companions)


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


def name_groups(client: Reader, raw: list[RawSpace], listed: Mapping[str, str]) -> dict[str, str | None]:
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


def to_live_spaces(
    raw: Iterable[RawSpace], groups: Mapping[str, str | None], labels: Mapping[str, str]
) -> dict[str, LiveSpace]:
    """Each space as ``LiveSpace``, by key: group ids named, users labelled (``Converter``)."""
    convert = Converter(groups, labels)
    return {space.info.key: convert(space) for space in raw}


class Converter:
    """Raw spaces as ``LiveSpace``: group ids named by ``groups`` (None or missing: the site cannot name
    it), users labelled by ``labels`` (account id -> the policy's handle). A principal held in many spaces
    is built once and shared (it is immutable): 100,000 assignments name far fewer principals. Safe to call
    from several threads (a principal built twice is built equal)."""

    def __init__(self, groups: Mapping[str, str | None], labels: Mapping[str, str]) -> None:
        self.groups = groups
        self.labels = labels
        self._made: dict[_Ref, Principal] = {}

    def names_every_group(self, space: RawSpace) -> bool:
        """Whether ``groups`` names every group ``space`` holds (then converting it now gives what the
        finish would, once the groups the site list left out were looked up)."""
        return all(self.groups.get(ident) for refs in (space.assignments, space.grants, space.companions)
                   for (kind, ident) in refs if kind is PrincipalKind.GROUP)

    def __call__(self, space: RawSpace) -> LiveSpace:
        principal = self._principal
        return LiveSpace(
            info=space.info,
            assignments=_by_principal((principal(ref), role) for ref, role in space.assignments.items()),
            # most spaces of a roles site have no individual permissions: no sort, no generator, for those
            grants=_by_principal((principal(ref), dict(sorted(h.items()))) for ref, h in space.grants.items())
            if space.grants else {},
            duplicates=_by_principal((principal(ref), d) for ref, d in space.duplicates.items())
            if space.duplicates else {},
            companions=_by_principal((principal(ref), c) for ref, c in space.companions.items())
            if space.companions else {},
        )

    def _principal(self, ref: _Ref) -> Principal:
        found = self._made.get(ref)
        if found is None:
            kind, ident = ref
            if kind is PrincipalKind.GROUP:
                name = self.groups.get(ident)
                found = Principal(kind, name) if name else Principal(kind, ident, unknown=True)
            elif kind is PrincipalKind.USER:
                found = Principal(kind, ident, label=self.labels.get(ident))
            else:
                found = Principal(kind, ident)
            self._made[ref] = found
        return found


def _by_principal(pairs: Iterable[tuple[Principal, V]]) -> dict[Principal, V]:
    """In principal order: ``ref`` ("kind:id") sorts as (kind, id) does, without the dataclass ``__lt__``
    (Python code per comparison)."""
    return dict(sorted(pairs, key=lambda pair: pair[0].ref))


def group_ids(
    request: ReadRequest, named: Mapping[str, str | None], listed: Mapping[str, str]
) -> dict[str, str]:
    """Group name -> id for the groups seen live or named in the request."""
    ids = {name: ident for ident, name in named.items() if name}
    ids.update((name, ident) for ident, name in listed.items() if name in request.groups)
    return dict(sorted(ids.items()))


# ------------------------------------------------------------------------------------------ helpers


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
