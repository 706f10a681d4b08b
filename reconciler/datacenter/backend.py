"""The Confluence Data Center backend: ``reconciler.backend.Backend`` over one DC client, the contract's
second implementation (docs/architecture.md, docs/datacenter.md). Opened by ``flows.connect.Connection``.

The live state it reads has no roles (``PRE_ROLES``, an empty role list) and the 14 DC permission pairs as
its catalogue; users are named by username, groups by name (a group's "id" is its name). DC permissions
have no ids: each held permission gets a stable number derived from (space, subject, permission), and
``delete_permission`` turns it back into a revoke of that subject's permission.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.backend import Progress, ReadRequest, ReadStart, RoleEntry, SiteUser, Subject
from reconciler.confluence.client import ConfluenceClient
from reconciler.datacenter import wire
from reconciler.datacenter.members import fetch_dc_group_members
from reconciler.datacenter.read import ANONYMOUS, Access, DcReader
from reconciler.datacenter.write import DcWriter
from reconciler.errors import ApiError, NotFoundError
from reconciler.live_state import GroupMembers, LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import Principal, PrincipalKind, RoleDef, RoleMode
from reconciler.permissions import DC_PERMISSIONS

T = TypeVar("T")
R = TypeVar("R")


class DcSpaceNotFoundError(NotFoundError):
    def _message(self) -> str:
        noun = "spaces" if self.space and "," in self.space else "space"
        return f"{noun} {self.space}: not found: deleted, or hidden from the account the tool runs as"


class NoRolesError(ApiError):
    """A role write reached a Data Center backend (DC has no space roles)."""


def permission_id(space: str, principal: Principal, permission: str) -> int:
    """A stable positive number for one held permission (DC has no permission ids)."""
    digest = hashlib.blake2b(f"{space}\0{principal.ref}\0{permission}".encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big")


class DataCenterBackend:
    """One DC site for one command."""

    def __init__(self, client: ConfluenceClient, *, allow_jsonrpc: bool = False) -> None:
        self.client = client
        self.reader = DcReader(client, allow_jsonrpc=allow_jsonrpc)
        self._lock = threading.Lock()
        self._ids: dict[tuple[str, int], tuple[Principal, str]] = {}
        self.writer = DcSiteWriter(self)

    def on_wait(self, waiting: Callable[[float, str], None] | None) -> None:
        """Say each wait before a retry (seconds, why): the progress display."""
        self.client.on_wait = waiting

    def connected(self) -> None:
        if self.reader.site is None:
            self.reader.connect()

    # ------------------------------------------------------------------------------------ reads
    def read(self, request: ReadRequest, progress: Progress | None = None) -> LiveState:
        say = progress or _quiet
        self.connected()
        say("listing spaces")
        infos = list(request.listed) or self.reader.spaces()
        in_scope, missing = _scope(request, infos)
        say(f"reading the permissions of {len(in_scope)} spaces")
        access = self.reader.read_all([i.key for i in in_scope])
        return self._live_state(request, infos, in_scope, access, missing)

    def read_start(
        self, start: ReadStart, progress: Progress | None = None, *, stop: Callable[[], bool] | None = None,
        spaces_begun: Callable[[], None] | None = None,
    ) -> StartedDcRead:
        """The start part of a read (``backend.SplitRead``): who the tool runs as and the version (their
        failure raises here), the space list, and with ``start.spaces`` the permissions of the spaces of
        ``start.keys``; a later failure is kept for ``finish``."""
        say = progress or _quiet
        self.connected()
        started = StartedDcRead(self, start)
        try:
            say("listing spaces")
            started.infos = list(start.listed) or self.reader.spaces()
            if start.spaces:
                known = [i.key for i in started.infos
                         if i.key in start.keys and (not start.only or i.key in start.only)]
                say(f"reading the permissions of {len(known)} spaces")
                if spaces_begun is not None:
                    spaces_begun()
                started.read(known, stop)
        except Exception as err:  # noqa: BLE001 - kept whole and raised by finish (all or nothing)
            started.failure = err
        return started

    def _live_state(self, request: ReadRequest, infos: list[SpaceInfo], in_scope: list[SpaceInfo],
                    access: Mapping[str, Access], missing: list[str]) -> LiveState:
        spaces = {i.key: self._live_space(i, access[i.key], request.people) for i in in_scope}
        managed = {i.key for i in in_scope}
        unmanaged = tuple(i for i in infos if i.key not in managed) if request.unmanaged else ()
        return LiveState(
            mode=RoleMode.PRE_ROLES,
            roles={},
            permissions=frozenset(DC_PERMISSIONS),
            spaces=spaces,
            group_ids=self._group_ids(request, spaces),
            unmanaged=unmanaged,
            missing=tuple(missing),
        )

    def list_spaces(self) -> list[SpaceInfo]:
        """Every space the caller can see, of every status (the listing every DC read makes anyway)."""
        self.connected()
        return self.reader.spaces()

    def _live_space(self, info: SpaceInfo, access: Access, people: Mapping[str, str]) -> LiveSpace:
        grants: dict[Principal, dict[str, int]] = {}
        for principal, ops in sorted(access.items(), key=lambda item: item[0].ref):
            labelled = principal
            if principal.kind is PrincipalKind.USER and principal.id in people:
                labelled = Principal(PrincipalKind.USER, principal.id, label=people[principal.id])
            ids = {op: permission_id(info.key, principal, op) for op in sorted(ops)}
            with self._lock:
                for op, number in ids.items():
                    self._ids[(info.key, number)] = (principal, op)
            grants[labelled] = ids
        return LiveSpace(info, {}, grants)

    def _group_ids(self, request: ReadRequest, spaces: Mapping[str, LiveSpace]) -> dict[str, str]:
        """Group name -> name (DC has no group ids) for the groups seen and those the policy names that
        exist; a named group that does not exist is left out, so the plan reports it as unknown."""
        seen = {p.id for s in spaces.values() for p in s.grants if p.kind is PrincipalKind.GROUP}
        wanted = set(request.groups) - seen
        if wanted:
            listed = {str(g.get("name")) for g in self.client.paginate_v1(wire.GROUPS, {"limit": 1000})}
            seen |= wanted & listed
        return {name: name for name in sorted(seen)}

    def read_roles(self) -> Mapping[str, LiveRole]:
        return {}

    def read_users(self, account_ids: Sequence[str]) -> dict[str, SiteUser]:
        """Display names by username (``GET /rest/api/user?username=``); unknown users are left out."""
        users: dict[str, SiteUser] = {}
        for username in account_ids:
            try:
                data = self.client.get_json(wire.USER, {"username": username})
            except NotFoundError:
                continue
            users[username] = SiteUser(username, str(data.get("displayName") or ""), False)
        return users

    def current_account(self) -> str | None:
        self.connected()
        return self.reader.site.username if self.reader.site else None

    def data_security(self, org_id: str, known_ids: Mapping[str, str]) -> None:
        return None  # data security controls do not exist on Data Center

    def read_group_members(
        self, groups: Mapping[str, str], progress: Progress | None = None
    ) -> dict[str, GroupMembers]:
        """Group name -> its members (``datacenter/members.py``)."""
        return fetch_dc_group_members(self.client, groups, progress=progress)

    def map_spaces(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return self.client.map_concurrently(fn, items)

    def held(self, space: str, number: int) -> tuple[Principal, str] | None:
        with self._lock:
            return self._ids.get((space, number))

    def close(self) -> None:
        self.client.close()


class _StoppedError(Exception):
    """The start part was stopped from outside (its policy did not load)."""


def _quiet(_message: str) -> None:
    return None


def _scope(request: ReadRequest, infos: list[SpaceInfo]) -> tuple[list[SpaceInfo], list[str]]:
    """The spaces ``request`` covers among ``infos`` (listing order) and its keys the site does not show;
    the latter raise unless ``request.missing_ok``."""
    by_key = {info.key: info for info in infos}
    in_scope = [i for i in infos if request.in_scope(i)]
    if request.only:
        in_scope = [by_key[k] for k in request.only if k in by_key]
    missing = sorted(k for k in (request.only or request.keys) if k not in by_key)
    if missing and not request.missing_ok:
        raise DcSpaceNotFoundError("GET", wire.SPACES, 404, space=", ".join(missing))
    return in_scope, missing


@dataclass(slots=True)
class StartedDcRead:
    """What the start part of a Data Center read found; ``finish`` makes it a request's live state."""

    backend: DataCenterBackend
    start: ReadStart
    infos: list[SpaceInfo] = field(default_factory=list)
    access: dict[str, Access] = field(default_factory=dict)  # spaces read, by key
    failure: Exception | None = None
    failed_on_a_space: bool = False  # the failure came from one space's read (it names the space)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, keys: list[str], stop: Callable[[], bool] | None) -> None:
        """The permissions of each of ``keys``, kept as each arrives; the first failure stops the rest."""
        reader = self.backend.reader

        def one(key: str) -> None:
            if stop is not None and stop():
                raise _StoppedError
            found = reader.space_access(key)
            with self._lock:
                self.access[key] = found

        try:
            self.backend.client.map_concurrently(one, keys)
        except ApiError:
            self.failed_on_a_space = True
            raise

    def finish(self, request: ReadRequest, progress: Progress | None = None) -> LiveState:
        """The live state of ``request`` (``backend.StartedRead``): its scope among the listed spaces, the
        spaces the start did not read; what the start read for a space ``request`` does not cover is
        dropped, and a failure reading such a space too."""
        if not self.start.fits(request):
            raise ValueError("the read was started for another --space or another way of listing spaces")
        failure = self.failure
        if failure is not None and not self.failed_on_a_space:
            raise failure
        in_scope, missing = _scope(request, self.infos)
        if failure is not None and (not isinstance(failure, ApiError) or not failure.space
                                    or failure.space in {i.key for i in in_scope}):
            raise failure
        todo = [i.key for i in in_scope if i.key not in self.access]
        if todo or not self.start.spaces:
            (progress or _quiet)(f"reading the permissions of {len(todo)} spaces")
        access = {**self.access, **self.backend.reader.read_all(todo)}
        return self.backend._live_state(request, self.infos, in_scope, access, missing)


class DcSiteWriter:
    """``SiteWriter`` for DC: grants by ``PUT …/grant``, revokes by ``PUT …/revoke`` (a group with '/' in
    its name by POST), and ``set_permissions`` for declarative POSTs of whole subjects."""

    def __init__(self, backend: DataCenterBackend) -> None:
        self._backend = backend
        self._dc = DcWriter(backend.reader)

    def _ready(self) -> None:
        self._backend.connected()

    def add_permission(self, space: SpaceInfo, subject: Subject, permission: str) -> int:
        self._ready()
        principal = _principal(subject)
        self._dc.grant(space.key, principal, frozenset({permission}))
        return permission_id(space.key, principal, permission)

    def delete_permission(self, space: SpaceInfo, permission_id: int) -> None:
        self._ready()
        found = self._backend.held(space.key, permission_id)
        if found is None:
            raise NotFoundError("PUT", wire.permissions_path(space.key), 404,
                                f"permission {permission_id} was not seen in the last read", space=space.key)
        principal, op = found
        self._dc.revoke(space.key, principal, frozenset({op}))

    def set_permissions(self, space: SpaceInfo, desired: Mapping[Principal, frozenset[str]]) -> int:
        """Each principal ends with exactly its set (declarative POSTs of <= 40 subjects); the requests."""
        self._ready()
        before = self._backend.client.request_count
        self._dc.set_access(space.key, desired)
        return self._backend.client.request_count - before

    def create_role(self, role: RoleDef) -> str:
        raise NoRolesError("POST", "(roles)", None, "Data Center has no space roles")

    def update_role(self, role_id: str, role: RoleDef) -> None:
        raise NoRolesError("PUT", "(roles)", None, "Data Center has no space roles")

    def delete_role(self, role_id: str) -> None:
        raise NoRolesError("DELETE", "(roles)", None, "Data Center has no space roles")

    def set_role_assignments(self, space: SpaceInfo, entries: Sequence[RoleEntry]) -> int:
        raise NoRolesError("POST", "(role assignments)", None, "Data Center has no space roles",
                           space=space.key)


def _principal(subject: Subject) -> Principal:
    if subject.type == "group":
        return Principal(PrincipalKind.GROUP, subject.identifier)
    if subject.identifier == "anonymous":
        return ANONYMOUS
    return Principal(PrincipalKind.USER, subject.identifier)
