"""What ``guests.max_role`` allows: for the read (which groups' guests to get) and the plan's check.

Pure, on the model only, so the read (``confluence/read.py``, through ``ReadRequest.guests``) and the
plan (``plan/guests.py``) share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.live_state import LiveState
from reconciler.model import DesiredState, Principal, PrincipalKind
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS


@dataclass(frozen=True, slots=True)
class GuestRead:
    """What the read needs to find the guests in groups given more than ``guests.max_role``."""

    max_role: str
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)  # the policy's roles' permissions
    groups: frozenset[str] = frozenset()  # groups the policy gives a role above max_role somewhere
    guests: frozenset[str] = frozenset()  # account ids the policy marks guest: true

    @classmethod
    def of(cls, desired: DesiredState) -> GuestRead | None:
        if desired.guest_max_role is None:
            return None
        roles = role_permissions(desired, None)
        assignments = [a for space in desired.spaces.values() for a in space.assignments]
        assignments += [a for rule in desired.defaults for a in rule.assignments]
        groups = {a.principal.id for a in assignments if a.principal.kind is PrincipalKind.GROUP
                  and exceeds(roles, desired.guest_max_role, a.role)}
        return cls(desired.guest_max_role, roles, frozenset(groups), desired.guests)

    def groups_to_read(self, site_roles: Mapping[str, frozenset[str]],
                       held: Iterable[tuple[Principal, str]]) -> set[str]:
        """The policy's groups, plus the groups the site gives a role above max_role in a managed space."""
        perms = {**DEFAULT_ROLE_PERMISSIONS, **site_roles, **self.roles}
        live = {p.id for p, role in held
                if p.kind is PrincipalKind.GROUP and exceeds(perms, self.max_role, role)}
        return set(self.groups) | live


def role_permissions(desired: DesiredState, live: LiveState | None) -> dict[str, frozenset[str]]:
    """Role name -> permissions: the system roles, the site's, then the policy's (the policy wins)."""
    perms = dict(DEFAULT_ROLE_PERMISSIONS)
    if live is not None:
        perms.update({name: role.permissions for name, role in live.roles.items()})
    perms.update({name: role.permissions for name, role in desired.roles.items()})
    return perms


def exceeds(perms: Mapping[str, frozenset[str]], max_role: str, role: str | None) -> bool:
    """Whether ``role`` grants more than ``max_role`` (an unknown role does; an unknown limit: no)."""
    if role is None or max_role not in perms:
        return False
    return not perms.get(role, frozenset({"?"})) <= perms[max_role]


def above(desired: DesiredState, perms: Mapping[str, frozenset[str]], role: str | None) -> bool:
    """Whether ``role`` grants more than ``guests.max_role`` (False without a limit)."""
    return desired.guest_max_role is not None and exceeds(perms, desired.guest_max_role, role)
