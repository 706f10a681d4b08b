"""The state of a simulated Confluence Data Center site, and its JSON form.

Identity follows DC (evidence/datacenter.md A.6, A.13): users have an opaque 32-hex ``key`` (what REST uses)
and a ``username`` (what JSON-RPC and people use); groups are known by name only; anonymous is a subject
of its own. Space permissions are a set of ``(space key, subject, "operation/target")`` with subject
``user:<userKey>``, ``group:<name>`` or ``anonymous``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLATFORM = "datacenter"
ANONYMOUS = "anonymous"
ADMIN_GROUP = "confluence-administrators"  # holds the Confluence Administrator global permission (A.5)


@dataclass
class DcUser:
    key: str  # userKey: 32 lower-case hex digits (DC-1000 example)
    username: str
    display_name: str
    email: str
    password: str | None = None  # Basic auth (TFDC client.go)
    pat: str | None = None  # personal access token, sent as Bearer (PAT)


@dataclass
class DcSpace:
    id: int
    key: str
    name: str
    type: str = "global"  # global | personal
    status: str = "current"


@dataclass
class DcState:
    name: str
    version: str = "9.2.5"  # what GET /rest/api/server-information reports; < 9.1 has no REST routes
    build_number: str = "9205"
    context_path: str = ""  # e.g. "/confluence"; every route lives under it
    anonymous_access: bool = True  # the site-wide "anonymous access" global permission
    remote_api_enabled: bool = True  # the "Remote API (XML-RPC & SOAP)" setting, gating JSON-RPC
    websudo: bool = False  # "Secure administrator sessions": intercepts admin JSON-RPC calls
    seed: str = ""
    users: dict[str, DcUser] = field(default_factory=dict)  # by userKey
    groups: dict[str, list[str]] = field(default_factory=dict)  # group name -> member userKeys
    spaces: dict[str, DcSpace] = field(default_factory=dict)  # by key
    permissions: set[tuple[str, str, str]] = field(default_factory=set)  # (space, subject, op/target)
    _index: dict[str, set[tuple[str, str]]] | None = field(default=None, repr=False, compare=False)

    def touch(self) -> None:
        """Forget the per-space index (call after changing ``permissions``)."""
        self._index = None

    def rows(self, space: str) -> set[tuple[str, str]]:
        """(subject, op) held in ``space``, from an index built once per change (sites of 2,000 spaces)."""
        if self._index is None:
            index: dict[str, set[tuple[str, str]]] = {}
            for s, subject, op in self.permissions:
                index.setdefault(s, set()).add((subject, op))
            self._index = index
        return self._index.get(space, set())

    # ------------------------------------------------------------------------------------ lookups
    def user_by_name(self, username: str) -> DcUser | None:
        for user in self.users.values():
            if user.username == username:
                return user
        return None

    def groups_of(self, user_key: str) -> list[str]:
        return sorted(name for name, members in self.groups.items() if user_key in members)

    def subjects_of(self, user: DcUser | None) -> set[str]:
        """The subjects whose permissions a caller holds (anonymous for everyone when it is on)."""
        if user is None:
            return {ANONYMOUS} if self.anonymous_access else set()
        found = {f"user:{user.key}"} | {f"group:{g}" for g in self.groups_of(user.key)}
        return found | ({ANONYMOUS} if self.anonymous_access else set())

    def is_confluence_admin(self, user: DcUser | None) -> bool:
        return user is not None and user.key in self.groups.get(ADMIN_GROUP, [])

    def holds(self, user: DcUser | None, space: str, op: str) -> bool:
        subjects = self.subjects_of(user)
        return any((space, subject, op) in self.permissions for subject in subjects)

    def ops_of(self, space: str, subject: str) -> set[str]:
        return {op for (subj, op) in self.rows(space) if subj == subject}

    def space_rows(self, space: str) -> list[tuple[str, str]]:
        return sorted(self.rows(space))

    # ------------------------------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, Any]:
        return {
            "platform": PLATFORM,
            "name": self.name,
            "version": self.version,
            "build_number": self.build_number,
            "context_path": self.context_path,
            "anonymous_access": self.anonymous_access,
            "remote_api_enabled": self.remote_api_enabled,
            "websudo": self.websudo,
            "seed": self.seed,
            "users": [vars(u) for u in sorted(self.users.values(), key=lambda u: u.username)],
            "groups": {name: sorted(members) for name, members in sorted(self.groups.items())},
            "spaces": [vars(s) for s in sorted(self.spaces.values(), key=lambda s: s.id)],
            "permissions": sorted(list(p) for p in self.permissions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DcState:
        if data.get("platform") != PLATFORM:
            raise ValueError("not a Data Center sandbox site")
        state = cls(
            name=data["name"],
            version=data["version"],
            build_number=data["build_number"],
            context_path=data["context_path"],
            anonymous_access=data["anonymous_access"],
            remote_api_enabled=data["remote_api_enabled"],
            websudo=data["websudo"],
            seed=data.get("seed", ""),
        )
        state.users = {u["key"]: DcUser(**u) for u in data["users"]}
        state.groups = {name: list(members) for name, members in data["groups"].items()}
        state.spaces = {s["key"]: DcSpace(**s) for s in data["spaces"]}
        state.permissions = {(p[0], p[1], p[2]) for p in data["permissions"]}
        return state


def version_tuple(version: str) -> tuple[int, int, int]:
    """``"9.2.5"`` -> ``(9, 2, 5)``; missing parts are 0, non-digits end a part."""
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits or 0))
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def has_rest_space_permissions(version: str) -> bool:
    """REST space permissions exist from 9.1.0 (JD-RES, JD-SVC "Since: 9.1.0"; CS-100505)."""
    return version_tuple(version) >= (9, 1, 0)
