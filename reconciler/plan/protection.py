"""The protection model: who is never removed or downgraded, and what a change takes away.

The diff withholds changes with it (``Plan.held``), and the safety assessment (``reconciler.plan.safety``)
finds the changes a plan carries anyway with it: one model, so both always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from reconciler.live_state import LiveState
from reconciler.model import ADMIN_ROLE, DesiredState, Principal, RoleMode
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS
from reconciler.plan.changes import AccessChange, AssignmentChange, Change, ChangeKind, GrantChange

REASON_UNKNOWN_PRINCIPAL = (
    "unknown principal: the site could not name it; remove it by hand or name it in the policy"
)


@dataclass(frozen=True)
class Guard:
    """Who is never removed or downgraded, and how to tell a downgrade."""

    protected: frozenset[Principal]
    actor: Principal
    role_permissions: Mapping[str, frozenset[str]]  # what each role grants now (the site's list wins)
    # what each role grants once the plan's role changes are made (the policy's declaration wins)
    planned_permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    live_roles: frozenset[str] | None = None  # the role names the site lists; None: not known

    @classmethod
    def of(cls, desired: DesiredState, live: LiveState) -> Guard:
        declared = {name: role.permissions for name, role in desired.roles.items()}
        on_site = {name: role.permissions for name, role in live.roles.items()}
        now = {**DEFAULT_ROLE_PERMISSIONS, **declared, **on_site}
        planned = {**DEFAULT_ROLE_PERMISSIONS, **on_site, **declared}
        return cls(frozenset(desired.safety.protected), desired.site.actor, now, planned, frozenset(on_site))

    def why_kept(self, principal: Principal) -> str | None:
        if principal.id not in self.kept_ids:  # one str lookup on the hot path: most principals are neither
            return None
        if principal == self.actor:
            return "kept: the actor (site.actor) is never removed or downgraded"
        if principal in self.protected:
            return "kept: protected principal (safety.protected) is never removed or downgraded"
        return None

    @cached_property
    def kept(self) -> frozenset[Principal]:
        return self.protected | {self.actor}

    @cached_property
    def kept_ids(self) -> frozenset[str]:
        """The ids of ``kept``: a principal whose id is not among them is neither protected nor the actor
        (equal principals have equal ids), found without ``Principal.__hash__``, a Python function."""
        return frozenset(p.id for p in self.kept)

    def who(self, principal: Principal) -> str:
        return f"{'the actor' if principal == self.actor else 'protected principal'} {principal.display}"

    def granted_by(self, role: str) -> frozenset[str]:
        """What ``role`` grants after the plan's role changes (empty for a role nobody can name)."""
        return self.planned_permissions.get(role, self.role_permissions.get(role, frozenset()))

    def is_downgrade(self, old_role: str, new_role: str) -> bool:
        if old_role == ADMIN_ROLE:
            return new_role != ADMIN_ROLE
        if new_role == ADMIN_ROLE:
            return False
        old = self.role_permissions.get(old_role)
        if old is None or (self.live_roles is not None and old_role not in self.live_roles):
            return True  # a role the site's list does not name: what it grants is unknown
        return bool(old - self.granted_by(new_role))

    def lost_to(self, permissions: Iterable[str], role: str) -> frozenset[str]:
        """The individual permissions a principal loses when ``role`` replaces them."""
        if role == ADMIN_ROLE:
            return frozenset()
        return frozenset(permissions) - self.granted_by(role)

    def takes_access(self, change: AccessChange, live: LiveState) -> bool:
        if isinstance(change, GrantChange):
            return change.kind is ChangeKind.REVOKE
        if change.role is None:  # unassign
            return True
        if change.old_role is None:  # assign
            return bool(replaced(change, live, self))
        return self.is_downgrade(change.old_role, change.role)


def custom_access(live: LiveState, key: str, principal: Principal) -> Mapping[str, int]:
    """The individual permissions a principal without a role holds in a space of a transition site."""
    if live.mode is not RoleMode.ROLES_TRANSITION:
        return {}
    space = live.spaces.get(key)
    if space is None or principal in space.assignments:
        return {}
    return space.grants.get(principal, {})


def replaced(change: Change, live: LiveState, guard: Guard) -> frozenset[str]:
    """What an ASSIGN takes away: on a transition site the role replaces individual permissions."""
    if not isinstance(change, AssignmentChange) or change.old_role is not None or change.role is None:
        return frozenset()
    return guard.lost_to(custom_access(live, change.space, change.principal), change.role)
