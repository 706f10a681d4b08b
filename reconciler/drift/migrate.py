"""Role proposals for principals still on custom access (individual space permissions).

For each principal on individual permissions in a space (confluence-api.md §3.4 "custom access"):

1. **exact**: a default or custom role with exactly its permission set (default roles preferred);
2. **new role**: permission sets without an exact match that at least ``min_share`` principals hold are
   proposed as new custom roles, most shared first, as long as the site stays within its custom role limit
   (existing custom roles count against it);
3. **nearest**: otherwise the role with the smallest difference, listing the permissions the principal
   would gain and lose (ties: fewer lost, then default roles, then by name).

Pure: works on permission sets, knows nothing of HTTP or files.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.model import DEFAULT_ROLES, Principal

NEW_ROLE_PREFIX = "Custom access role"
DEFAULT_MIN_SHARE = 2


class ProposalKind(enum.StrEnum):
    EXACT = "exact"
    NEAREST = "nearest"
    NEW_ROLE = "new_role"


@dataclass(frozen=True, slots=True, order=True)
class CustomAccess:
    """A principal on individual permissions in one space."""

    space: str
    principal: Principal
    permissions: frozenset[str]


@dataclass(frozen=True, slots=True)
class RoleProposal:
    space: str
    principal: Principal
    permissions: tuple[str, ...]  # what the principal holds now, sorted
    kind: ProposalKind
    role: str
    gained: tuple[str, ...] = ()  # permissions the role adds
    lost: tuple[str, ...] = ()  # permissions the principal would no longer hold


@dataclass(frozen=True, slots=True)
class NewRole:
    name: str
    permissions: tuple[str, ...]
    holders: int  # (space, principal) pairs that hold exactly this set

    @property
    def description(self) -> str:
        return f"Proposed from custom access: held by {self.holders} principals"


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    proposals: tuple[RoleProposal, ...]
    new_roles: tuple[NewRole, ...]
    custom_role_limit: int
    existing_custom: int
    left_out: tuple[tuple[str, ...], ...] = ()  # shared sets not proposed: the limit was reached

    @property
    def limit_reached(self) -> bool:
        return self.existing_custom + len(self.new_roles) >= self.custom_role_limit and bool(self.left_out)

    def counts(self) -> Counter[ProposalKind]:
        return Counter(p.kind for p in self.proposals)


def propose_roles(
    custom: Iterable[CustomAccess],
    roles: Mapping[str, frozenset[str]],
    *,
    custom_role_limit: int = 10,
    min_share: int = DEFAULT_MIN_SHARE,
) -> MigrationPlan:
    """Propose a role for every principal on custom access; ``roles`` maps role name -> permissions."""
    accesses = sorted(set(custom))
    existing_custom = sum(1 for name in roles if name not in DEFAULT_ROLES)
    unmatched = Counter(a.permissions for a in accesses if _exact(a.permissions, roles) is None)
    shared = sorted(
        (perms for perms, count in unmatched.items() if count >= min_share),
        key=lambda perms: (-unmatched[perms], sorted(perms)),
    )
    slots = max(0, custom_role_limit - existing_custom)
    new_roles = _name_new_roles(shared[:slots], unmatched, roles)
    by_perms = {frozenset(role.permissions): role.name for role in new_roles}
    proposals = tuple(_propose(a, roles, by_perms) for a in accesses)
    return MigrationPlan(
        proposals=proposals,
        new_roles=new_roles,
        custom_role_limit=custom_role_limit,
        existing_custom=existing_custom,
        left_out=tuple(tuple(sorted(perms)) for perms in shared[slots:]),
    )


def _propose(
    access: CustomAccess, roles: Mapping[str, frozenset[str]], new_roles: Mapping[frozenset[str], str]
) -> RoleProposal:
    held = tuple(sorted(access.permissions))
    exact = _exact(access.permissions, roles)
    if exact is not None:
        return RoleProposal(access.space, access.principal, held, ProposalKind.EXACT, exact)
    if access.permissions in new_roles:
        return RoleProposal(
            access.space, access.principal, held, ProposalKind.NEW_ROLE, new_roles[access.permissions]
        )
    name = min(roles, key=lambda n: _distance(access.permissions, roles[n], n))
    return RoleProposal(
        access.space,
        access.principal,
        held,
        ProposalKind.NEAREST,
        name,
        gained=tuple(sorted(roles[name] - access.permissions)),
        lost=tuple(sorted(access.permissions - roles[name])),
    )


def _role_order(name: str) -> tuple[int, str]:
    """Default roles first, in their documented order, then custom roles by name."""
    return (DEFAULT_ROLES.index(name), "") if name in DEFAULT_ROLES else (len(DEFAULT_ROLES), name)


def _exact(perms: frozenset[str], roles: Mapping[str, frozenset[str]]) -> str | None:
    matches = sorted((name for name, role_perms in roles.items() if role_perms == perms), key=_role_order)
    return matches[0] if matches else None


def _distance(held: frozenset[str], role: frozenset[str], name: str) -> tuple[int, int, tuple[int, str]]:
    gained, lost = role - held, held - role
    return (len(gained) + len(lost), len(lost), _role_order(name))


def _name_new_roles(
    sets: list[frozenset[str]], holders: Counter[frozenset[str]], roles: Mapping[str, frozenset[str]]
) -> tuple[NewRole, ...]:
    result: list[NewRole] = []
    number = 0
    for perms in sets:
        number += 1
        while f"{NEW_ROLE_PREFIX} {number}" in roles:
            number += 1
        result.append(NewRole(f"{NEW_ROLE_PREFIX} {number}", tuple(sorted(perms)), holders[perms]))
    return tuple(result)
