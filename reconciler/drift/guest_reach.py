"""Guest reach: which spaces each guest can see, and through which assignment (the drift report's section).

Pure: computed from the policy's people (``guest: true``) and the live state of the managed spaces.
A guest reaches a space through (``Path.via``):

- ``user``: a role assigned to the guest directly (``certain``);
- ``grant``: legacy permissions granted to the guest directly (``certain`` when ``read/space`` is among them);
- ``class``: an access class: ``anonymous-users`` reaches everyone, guests included (confluence-api.md §6.4,
  ``certain``); whether ``authenticated-users`` and ``all-licensed-users`` include guests is not documented
  (``certain`` False, said in ``note``); the admin classes never include a guest;
- ``group``: a role assigned to a group. With the group members read from the site (``members``, the
  access review's read: ``membersByGroupId``, once per group), the path is exact: it exists, certainly, for
  a guest who is a member, and not at all for one who is not. A group whose members the site cannot name
  (a deleted group still holding access) stays possible, and so does every group path when ``members`` is
  None (offline), with ``note`` saying why.

Only managed spaces are read, so spaces the policy does not manage are not covered (``GuestReach`` says
nothing about them). A single-space guest is assigned one space (plus any space with anonymous access,
§6.4): a guest assigned more than one space directly is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.live_state import GroupMembers, LiveSpace, LiveState
from reconciler.model import READ_SPACE, DesiredState, Principal, PrincipalKind

ANONYMOUS = "anonymous-users"
_UNDOCUMENTED_CLASSES = {
    "authenticated-users": "if guests count as authenticated users (not documented)",
    "all-licensed-users": "if guests count as licensed users (not documented)",
}
GROUP_NOTE = "if a member of the group (group memberships are not read)"
GROUP_UNKNOWN_NOTE = "if a member of the group (the site cannot name its members)"
GROUPS_ROUTE = "groups (memberships are not read)"


@dataclass(frozen=True, slots=True)
class Path:
    """One way a guest reaches one space."""

    space: str
    via: str  # user | grant | class | group
    principal: Principal  # the guest itself, the access class or the group
    access: str  # the role name, or the comma-separated legacy permissions
    certain: bool
    note: str = ""

    def describe(self) -> str:
        direct = {"user": "directly", "grant": "directly (custom access)"}
        how = direct.get(self.via, f"through {self.principal}")
        text = f"{self.space}: {self.access} {how}"
        return f"{text}, {self.note}" if self.note else text


@dataclass(frozen=True, slots=True)
class GuestReach:
    """Everything one guest can (or may) see in the managed spaces."""

    handle: str
    account_id: str
    paths: tuple[Path, ...]  # sorted by space, then certain paths first

    @property
    def spaces(self) -> tuple[str, ...]:
        """Spaces the guest certainly reaches."""
        return tuple(sorted({p.space for p in self.paths if p.certain}))

    @property
    def possible_spaces(self) -> tuple[str, ...]:
        """Spaces the guest may reach (through a group or an undocumented access class) and not certainly."""
        certain = set(self.spaces)
        return tuple(sorted({p.space for p in self.paths if not p.certain} - certain))

    @property
    def assigned_spaces(self) -> tuple[str, ...]:
        """Spaces assigned to the guest directly (a role or legacy permissions), not through a class."""
        return tuple(sorted({p.space for p in self.paths if p.certain and p.via in ("user", "grant")}))

    @property
    def warnings(self) -> tuple[str, ...]:
        """A single-space guest should be assigned one space (anonymous access aside)."""
        assigned = self.assigned_spaces
        if len(assigned) > 1:
            return (f"a single-space guest is assigned {len(assigned)} spaces: {', '.join(assigned)}",)
        return ()

    def lines(self) -> list[str]:
        """Plain text lines for reports: a header, the certain paths, then the possible ones by route."""
        head = f"user:{self.handle}: {len(self.spaces)} space(s)"
        if self.possible_spaces:
            head += f", {len(self.possible_spaces)} more possible"
        out = [head, *(f"  {w}" for w in self.warnings)]
        out += [f"  {p.describe()}" for p in self.paths if p.certain]
        routes: dict[str, set[str]] = {}
        for path in self.paths:
            if not path.certain:
                route = GROUPS_ROUTE if path.note == GROUP_NOTE else f"{path.principal}, {path.note}"
                routes.setdefault(route, set()).add(path.space)
        for route, keys in sorted(routes.items()):
            out.append(f"  possibly through {route}: {', '.join(sorted(keys))}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "guest": self.handle, "account_id": self.account_id, "spaces": list(self.spaces),
            "possible_spaces": list(self.possible_spaces), "assigned_spaces": list(self.assigned_spaces),
            "warnings": list(self.warnings),
            "paths": [{"space": p.space, "via": p.via, "principal": p.principal.display, "access": p.access,
                       "certain": p.certain, "note": p.note} for p in self.paths],
        }


def guest_reach(
    desired: DesiredState, live: LiveState, members: Mapping[str, GroupMembers] | None = None
) -> list[GuestReach]:
    """One entry per guest of the policy (by handle), with every path to a managed space; exact through
    groups when ``members`` (group name -> members read from the site) is given."""
    shared = [path for space in live.spaces.values() for path in _shared_paths(space)]
    result = []
    for person in sorted(desired.people.values(), key=lambda p: p.handle):
        if not person.guest:
            continue
        me = Principal(PrincipalKind.USER, person.account_id, label=person.handle)
        own = [path for space in live.spaces.values() for path in _own_paths(space, me)]
        mine = [_exact(path, person.account_id, members) for path in shared]
        paths = sorted([*own, *(p for p in mine if p is not None)],
                       key=lambda p: (p.space, not p.certain, p.via, p.principal.ref))
        result.append(GuestReach(person.handle, person.account_id, tuple(paths)))
    return result


def _exact(path: Path, account_id: str, members: Mapping[str, GroupMembers] | None) -> Path | None:
    """A group path made exact by the members read: certain for a member, gone for anyone else."""
    if path.via != "group" or members is None:
        return path
    group = members.get(path.principal.id)
    if group is None or group.missing:
        return Path(path.space, "group", path.principal, path.access, certain=False, note=GROUP_UNKNOWN_NOTE)
    if any(m.account_id == account_id for m in group.members):
        return Path(path.space, "group", path.principal, path.access, certain=True)
    return None


def _own_paths(space: LiveSpace, me: Principal) -> Iterable[Path]:
    role = space.assignments.get(me)
    if role is not None:
        yield Path(space.key, "user", me, role, certain=True)
    perms: Mapping[str, int] | None = space.grants.get(me)
    if perms:
        yield Path(space.key, "grant", me, ", ".join(sorted(perms)), certain=READ_SPACE in perms)


def _shared_paths(space: LiveSpace) -> Iterable[Path]:
    for principal, role in space.assignments.items():
        yield from _shared(space.key, principal, role)
    for principal, perms in space.grants.items():
        if READ_SPACE in perms:
            yield from _shared(space.key, principal, ", ".join(sorted(perms)))


def _shared(key: str, principal: Principal, access: str) -> Iterable[Path]:
    if principal.kind is PrincipalKind.GROUP:
        yield Path(key, "group", principal, access, certain=False, note=GROUP_NOTE)
    elif principal.kind is PrincipalKind.CLASS:
        if principal.id == ANONYMOUS:
            yield Path(key, "class", principal, access, certain=True)
        elif principal.id in _UNDOCUMENTED_CLASSES:
            note = _UNDOCUMENTED_CLASSES[principal.id]
            yield Path(key, "class", principal, access, certain=False, note=note)
