"""The sandbox site's data: plain mutable records and their JSON form (``<state dir>/<name>.json``).

Nothing here enforces a rule; :mod:`reconciler.sandbox.site` does.  A principal is the pair
``(principalType, principalId)`` with the v2 spellings ``USER`` (accountId), ``GROUP`` (group id) and
``ACCESS_CLASS`` (``anonymous-users``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1

PrincipalKey = tuple[str, str]  # (principalType, principalId)


@dataclass
class User:
    account_id: str
    display_name: str
    email: str
    api_token: str | None = None  # None: this account cannot log in with Basic auth
    guest: bool = False
    site_admin: bool = False
    account_type: str = "atlassian"  # atlassian | app (an installed app's user) | customer

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "accountId": self.account_id,
            "displayName": self.display_name,
            "email": self.email,
            "apiToken": self.api_token,
            "guest": self.guest,
            "siteAdmin": self.site_admin,
        }
        if self.account_type != "atlassian":
            data["accountType"] = self.account_type
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            data["accountId"],
            data["displayName"],
            data["email"],
            data.get("apiToken"),
            bool(data.get("guest", False)),
            bool(data.get("siteAdmin", False)),
            str(data.get("accountType", "atlassian")),
        )


@dataclass
class Group:
    id: str
    name: str
    members: list[str] = field(default_factory=list)  # accountIds

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "members": list(self.members)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Group:
        return cls(data["id"], data["name"], list(data.get("members", [])))


@dataclass
class Role:
    id: str
    type: str  # SYSTEM | CUSTOM
    name: str
    description: str
    permissions: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "description": self.description,
            "spacePermissions": list(self.permissions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Role:
        return cls(
            data["id"], data["type"], data["name"], data["description"], list(data["spacePermissions"])
        )


@dataclass
class Permission:
    """A space permission row with its v1 integer id.  ``producer``: the id of the v1 grant that created
    this row as a companion (``read/space`` brings ``export_content/space``, ...), else None."""

    id: int
    principal: PrincipalKey
    key: str
    target: str
    producer: int | None = None

    @property
    def perm_id(self) -> str:
        return f"{self.key}/{self.target}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "principalType": self.principal[0],
            "principalId": self.principal[1],
            "key": self.key,
            "target": self.target,
        }
        if self.producer is not None:
            data["producer"] = self.producer
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Permission:
        producer = data.get("producer")
        return cls(
            int(data["id"]),
            (data["principalType"], data["principalId"]),
            data["key"],
            data["target"],
            int(producer) if producer is not None else None,
        )


@dataclass
class RoleTask:
    """An accepted role update or deletion (202 + taskId) not yet carried out; ``wait``: requests to go."""

    id: str
    op: str  # update | delete
    role_id: str
    change: dict[str, Any]
    wait: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "op": self.op, "roleId": self.role_id, "change": self.change,
                "wait": self.wait}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoleTask:
        return cls(data["id"], data["op"], data["roleId"], dict(data["change"]), int(data["wait"]))


@dataclass
class Space:
    id: int
    key: str
    name: str
    type: str = "global"
    status: str = "current"
    author_id: str = ""
    created_at: str = "2024-01-15T09:00:00.000Z"
    assignments: dict[PrincipalKey, str] = field(default_factory=dict)  # principal -> role id
    permissions: dict[int, Permission] = field(default_factory=dict)  # v1 id -> permission

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "authorId": self.author_id,
            "createdAt": self.created_at,
            "assignments": [
                {"principalType": p[0], "principalId": p[1], "roleId": role}
                for p, role in sorted(self.assignments.items())
            ],
            "permissions": [perm.to_json() for _, perm in sorted(self.permissions.items())],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Space:
        space = cls(
            int(data["id"]),
            data["key"],
            data["name"],
            data.get("type", "global"),
            data.get("status", "current"),
            data.get("authorId", ""),
            data.get("createdAt", ""),
        )
        for item in data.get("assignments", []):
            space.assignments[(item["principalType"], item["principalId"])] = item["roleId"]
        for item in data.get("permissions", []):
            perm = Permission.from_json(item)
            space.permissions[perm.id] = perm
        return space


@dataclass
class SiteState:
    """Everything a sandbox site holds.  ``org_policies``: policy id -> JSON:API resource object."""

    name: str
    mode: str = "ROLES_TRANSITION"
    cloud_id: str = "00000000-0000-4000-8000-000000000000"
    org_id: str = "00000000-0000-4000-8000-000000000001"
    admin_api_key: str = "sandbox-admin-api-key"
    next_permission_id: int = 100001
    users: dict[str, User] = field(default_factory=dict)  # accountId -> user
    groups: dict[str, Group] = field(default_factory=dict)  # group id -> group
    roles: dict[str, Role] = field(default_factory=dict)  # role id -> role
    spaces: dict[int, Space] = field(default_factory=dict)  # space id -> space
    org_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: str = ""  # the seed the site was created from ("demo", "synthetic:..."); "" = built by hand
    vocabulary: str = "plain"  # plain: the 14 v1 pairs only; live: the live vocabulary (docs/sandbox.md)
    tasks: list[RoleTask] = field(default_factory=list)  # accepted role updates/deletions still to run
    _member_of: dict[str, frozenset[str]] | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ lookups
    def member_of(self, account_id: str) -> frozenset[str]:
        """Group ids the user belongs to (index rebuilt on demand; groups never change via the API)."""
        if self._member_of is None:
            index: dict[str, set[str]] = {}
            for group in self.groups.values():
                for member in group.members:
                    index.setdefault(member, set()).add(group.id)
            self._member_of = {acc: frozenset(ids) for acc, ids in index.items()}
        return self._member_of.get(account_id, frozenset())

    def reindex(self) -> None:
        self._member_of = None

    def space_by_key(self, key: str) -> Space | None:
        for space in self.spaces.values():
            if space.key == key:
                return space
        return None

    def group_by_name(self, name: str) -> Group | None:
        for group in self.groups.values():
            if group.name == name:
                return group
        return None

    def role_by_name(self, name: str) -> Role | None:
        for role in self.roles.values():
            if role.name.casefold() == name.casefold():
                return role
        return None

    def user_by_email(self, email: str) -> User | None:
        for user in self.users.values():
            if user.email.casefold() == email.casefold():
                return user
        return None

    # --------------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "name": self.name,
            "seed": self.seed,
            "mode": self.mode,
            "cloudId": self.cloud_id,
            "orgId": self.org_id,
            "adminApiKey": self.admin_api_key,
            "nextPermissionId": self.next_permission_id,
            "users": [u.to_json() for u in self.users.values()],
            "groups": [g.to_json() for g in self.groups.values()],
            "roles": [r.to_json() for r in self.roles.values()],
            "spaces": [s.to_json() for _, s in sorted(self.spaces.items())],
            "orgPolicies": self.org_policies,
            "vocabulary": self.vocabulary,
            "tasks": [t.to_json() for t in self.tasks],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteState:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported sandbox state format {data.get('format')!r}")
        state = cls(
            data["name"],
            data["mode"],
            data["cloudId"],
            data["orgId"],
            data["adminApiKey"],
            int(data["nextPermissionId"]),
        )
        state.users = {u["accountId"]: User.from_json(u) for u in data["users"]}
        state.groups = {g["id"]: Group.from_json(g) for g in data["groups"]}
        state.roles = {r["id"]: Role.from_json(r) for r in data["roles"]}
        state.spaces = {int(s["id"]): Space.from_json(s) for s in data["spaces"]}
        state.org_policies = dict(data.get("orgPolicies", {}))
        state.seed = str(data.get("seed", ""))
        state.vocabulary = str(data.get("vocabulary", "plain"))
        state.tasks = [RoleTask.from_json(t) for t in data.get("tasks", [])]
        return state
