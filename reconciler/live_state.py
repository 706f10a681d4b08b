"""Frozen value objects of the live side: what the site holds now, read all or nothing by a backend.

Identity rules are model.py's (a user by account id, a group by name, a role by name); the org's data
security policies, shared by plans and the site, stay there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.model import OrgPolicies, Principal, RoleMode


@dataclass(frozen=True, slots=True, order=True)
class SpaceInfo:
    """A space as ``GET /wiki/api/v2/spaces`` lists it (ids are strings, as in v2 JSON)."""

    key: str
    id: str
    name: str
    type: str  # global | collaboration | knowledge_base | personal | ...
    status: str = "current"


@dataclass(frozen=True, slots=True)
class LiveRole:
    id: str
    name: str
    type: str  # SYSTEM | CUSTOM
    description: str
    permissions: frozenset[str]

    @property
    def system(self) -> bool:
        return self.type == "SYSTEM"


@dataclass(frozen=True, slots=True)
class LiveSpace:
    """What one space holds now.

    ``assignments``: principal -> role name (roles and transition sites).
    ``grants``: principal -> {permission id ``key/target`` -> v1 permission id} (legacy and transition);
    the lowest id when the site holds a permission in several rows.
    ``duplicates``: principal -> {permission id -> the other rows' ids} for permissions held more than once.
    ``companions``: principal -> {permission id -> row id} of rows a v1 grant brought with it
    (``reconciler.vocabulary.COMPANIONS``): part of that grant, never a grant of their own.
    """

    info: SpaceInfo
    assignments: Mapping[Principal, str] = field(default_factory=dict)
    grants: Mapping[Principal, Mapping[str, int]] = field(default_factory=dict)
    duplicates: Mapping[Principal, Mapping[str, tuple[int, ...]]] = field(default_factory=dict)
    companions: Mapping[Principal, Mapping[str, int]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.info.key



@dataclass(frozen=True, slots=True)
class LiveState:
    """The live state of the managed scope, read all-or-nothing."""

    mode: RoleMode
    roles: Mapping[str, LiveRole]  # by name, system and custom
    permissions: frozenset[str]  # the site's permission catalogue (``key/target`` ids)
    spaces: Mapping[str, LiveSpace]  # managed spaces by key
    group_ids: Mapping[str, str]  # group name -> group id, for the groups seen or referenced
    unmanaged: tuple[SpaceInfo, ...] = ()  # spaces on the site matched by nothing in the policy
    missing: tuple[str, ...] = ()  # policy space keys the site does not show (404)
    data_security: OrgPolicies | None = None  # None: data security not in scope
    accounts: Accounts | None = None  # what GET /user/bulk said of the accounts seen and named
    site_groups: tuple[str, ...] = ()  # every group name on the site (for "did you mean")
    caller: Caller | None = None  # the account the tool runs as, when read (roles-only sites)
    # group name -> its guests' account ids, for the groups holding (or given) a role above
    # guests.max_role in the managed spaces; None when not read (no guests.max_role)
    guest_members: Mapping[str, tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Accounts:
    """Account ids looked up on the site: apps' users (``accountType: app``) and those it does not have."""

    apps: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Caller:
    """The account the tool runs as: product admin or not, and the groups it is in (by name)."""

    account_id: str
    product_admin: bool
    groups: frozenset[str] = frozenset()




# ------------------------------------------------------------------------------------- group membership


@dataclass(frozen=True, slots=True, order=True)
class Member:
    """One user in a group, as the site lists it (Cloud: ``membersByGroupId``; guests flagged by the site)."""

    account_id: str
    display_name: str = field(default="", compare=False)
    guest: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class GroupMembers:
    """Every member of one group, read all or nothing (``members`` sorted by account id).

    ``missing``: the site does not know the group id (a deleted group still holding access); its members
    cannot be named, and reports say so.
    """

    name: str
    id: str
    members: tuple[Member, ...] = ()
    missing: bool = False
