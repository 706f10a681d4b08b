"""A small fake site implementing apply's Reader and Writer, with faults given as data.

It keeps the same facts as ``LiveState`` (assignments by principal, grants with v1 ids) and applies the
writes the way the real API documents them: an array POST sets or removes each entry, revoking
``read/space`` drops the principal's other permissions, a duplicate grant is a 400.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.apply import RoleEntry, Subject
from reconciler.errors import ApiError, NotFoundError, TransportError
from reconciler.fingerprint import fingerprint
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import (
    READ_SPACE,
    Authority,
    DesiredState,
    Principal,
    PrincipalKind,
    RoleDef,
    RoleMode,
    SafetySettings,
)
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS
from reconciler.plan.changes import Change, ordered
from reconciler.plan.plan import Plan, PlannedSpace
from tests.kit.state import SITE_ROLES
from tests.kit.state import desired_state as new_desired_state

ACTOR = Principal(PrincipalKind.USER, "actor-1", label="svc-reconciler")
ADMINS = Principal(PrincipalKind.GROUP, "confluence-administrators")


def user(ident: str) -> Principal:
    return Principal(PrincipalKind.USER, ident)


def group(name: str) -> Principal:
    return Principal(PrincipalKind.GROUP, name)


@dataclass
class FakeSpace:
    id: str
    assignments: dict[Principal, str] = field(default_factory=dict)
    grants: dict[Principal, dict[str, int]] = field(default_factory=dict)


@dataclass
class Fault:
    """Raise ``error`` on write call number ``call`` (1-based); ``after`` applies the write first."""

    call: int
    error: ApiError
    after: bool = False


class FakeSite:
    def __init__(self, mode: RoleMode = RoleMode.ROLES) -> None:
        self.mode = mode
        self._ids = itertools.count(1000)
        self.roles: dict[str, LiveRole] = dict(SITE_ROLES)
        self.spaces: dict[str, FakeSpace] = {}
        self.group_ids: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.rejected: set[str] = set()  # principal ids the site answers 400 for
        self.writes: list[str] = []
        self.reads = 0

    # ------------------------------------------------------------------------------------------ setup

    def add_space(self, key: str, **assignments: str) -> FakeSpace:
        space = FakeSpace(id=str(len(self.spaces) + 1))
        self.spaces[key] = space
        if self.mode.has_roles:
            space.assignments[ACTOR] = "Admin"
        else:
            self.add_grants(key, ACTOR, READ_SPACE, "administer/space")
        for name, role in assignments.items():
            space.assignments[group(name)] = role
            self.group_ids.setdefault(name, f"gid-{name}")
        return space

    def add_grants(self, key: str, principal: Principal, *perms: str) -> None:
        if principal.kind is PrincipalKind.GROUP:
            self.group_ids.setdefault(principal.id, f"gid-{principal.id}")
        held = self.spaces[key].grants.setdefault(principal, {})
        for perm in perms:
            held[perm] = next(self._ids)

    # ------------------------------------------------------------------------------------------ Reader

    def read(self, spaces: Sequence[str]) -> LiveState:
        self.reads += 1
        keys = spaces or sorted(self.spaces)
        return LiveState(
            mode=self.mode,
            roles=dict(self.roles),
            permissions=frozenset(DEFAULT_ROLE_PERMISSIONS["Admin"]),
            spaces={k: self._live(k) for k in keys if k in self.spaces},
            group_ids=dict(self.group_ids),
        )

    def read_roles(self) -> Mapping[str, LiveRole]:
        self.reads += 1
        return dict(self.roles)

    def _live(self, key: str) -> LiveSpace:
        space = self.spaces[key]
        return LiveSpace(
            info=SpaceInfo(key=key, id=space.id, name=key, type="global"),
            assignments=dict(space.assignments),
            grants={p: dict(g) for p, g in space.grants.items()},
        )

    # ------------------------------------------------------------------------------------------ Writer

    def _write(self, what: str, apply: object) -> object:
        self.writes.append(what)
        number = len(self.writes)
        fault = next((f for f in self.faults if f.call == number), None)
        if fault is not None and not fault.after:
            raise fault.error
        result = apply() if callable(apply) else None
        if fault is not None:
            raise fault.error
        return result

    def create_role(self, role: RoleDef) -> str:
        new_id = f"role-{next(self._ids)}"

        def do() -> str:
            self.roles[role.name] = LiveRole(new_id, role.name, "CUSTOM", role.description, role.permissions)
            return new_id

        self._write(f"create_role {role.name}", do)
        return new_id

    def update_role(self, role_id: str, role: RoleDef) -> None:
        def do() -> None:
            self.roles[role.name] = LiveRole(role_id, role.name, "CUSTOM", role.description, role.permissions)

        self._write(f"update_role {role.name}", do)

    def delete_role(self, role_id: str) -> None:
        def do() -> None:
            name = next((n for n, r in self.roles.items() if r.id == role_id), None)
            if name is None:
                raise NotFoundError("DELETE", f"/wiki/api/v2/space-roles/{role_id}", 404)
            del self.roles[name]

        self._write(f"delete_role {role_id}", do)

    def set_role_assignments(self, space: SpaceInfo, entries: Sequence[RoleEntry]) -> int:
        def do() -> None:
            bad = [e.principal_id for e in entries if e.principal_id in self.rejected]
            if bad:
                raise ApiError("POST", f"/wiki/api/v2/spaces/{space.id}/role-assignments", 400,
                               f"invalid principal {bad[0]}", space=space.key)
            by_id = {r.id: name for name, r in self.roles.items()}
            live = self.spaces[space.key].assignments
            for entry in entries:
                if entry.role_id is None:
                    live.pop(entry.principal, None)
                else:
                    live[entry.principal] = by_id[entry.role_id]

        self._write(f"set_role_assignments {space.key} {len(entries)}", do)
        return 1

    def add_permission(self, space: SpaceInfo, subject: Subject, permission: str) -> int:
        principal = self._principal(subject)
        new_id = next(self._ids)

        def do() -> None:
            held = self.spaces[space.key].grants.setdefault(principal, {})
            if permission in held:
                raise ApiError("POST", f"/wiki/rest/api/space/{space.key}/permission", 400,
                               "Permission already exists for the given user or group", space=space.key)
            if permission != READ_SPACE and READ_SPACE not in held:
                raise ApiError("POST", f"/wiki/rest/api/space/{space.key}/permission", 400,
                               "'read space' permission doesn't exist for the given user or group",
                               space=space.key)
            held[permission] = new_id

        self._write(f"add_permission {space.key} {principal.ref} {permission}", do)
        return new_id

    def delete_permission(self, space: SpaceInfo, permission_id: int) -> None:
        def do() -> None:
            for principal, held in self.spaces[space.key].grants.items():
                for perm, pid in list(held.items()):
                    if pid == permission_id:
                        if perm == READ_SPACE:
                            del self.spaces[space.key].grants[principal]
                        else:
                            del held[perm]
                        return
            raise NotFoundError("DELETE", f"/wiki/rest/api/space/{space.key}/permission/{permission_id}", 404)

        self._write(f"delete_permission {space.key} {permission_id}", do)

    def _principal(self, subject: Subject) -> Principal:
        if subject.type == "group":
            name = next(n for n, i in self.group_ids.items() if i == subject.identifier)
            return group(name)
        if subject.identifier == "anonymous":
            return Principal(PrincipalKind.CLASS, "anonymous-users")
        return user(subject.identifier)


def desired_state(**roles: RoleDef) -> DesiredState:
    return new_desired_state(url="sandbox:fake", actor=ACTOR, safety=SafetySettings(protected=(ADMINS,)),
                         roles=roles, digest="sha256:policy")


def make_plan(site: FakeSite, changes: Sequence[Change]) -> Plan:
    live = site.read(())
    site.reads -= 1
    keys = sorted(site.spaces)
    return Plan(
        site="sandbox:fake",
        mode=site.mode.value,
        policy_digest="sha256:policy",
        fingerprint=fingerprint(live, scope=keys),
        spaces=tuple(PlannedSpace(k, site.spaces[k].id, Authority.EXACT, None) for k in keys),
        changes=ordered(list(changes)),
        live_assignments=sum(len(s.assignments) for s in site.spaces.values()),
    )


def transport_error(method: str = "POST") -> TransportError:
    return TransportError(method, "/x", None, "the connection to site failed: reset")


def server_error(method: str = "POST") -> ApiError:
    return ApiError(method, "/x", 500, "Internal Server Error")
