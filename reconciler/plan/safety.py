"""Safety checks run on every plan (and again at apply): each failure is a ``SafetyFinding``.

- removal fraction: removals (unassign + revoke) above ``safety.max_removal_fraction`` of the live
  assignments and grants in scope, once the scope holds at least ``REMOVAL_FLOOR`` of them;
- minimum admins: an ``exact`` space left with fewer than ``safety.min_admins_per_space`` admins;
- protected principals: a change that removes or downgrades ``safety.protected`` or the actor;
- the actor's own admin: in every space in scope the actor must hold Admin after the plan.

Every message names the override, ``--allow-unsafe``. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.model import (
    ADMIN_ROLE,
    ADMINISTER_SPACE,
    DEFAULT_ROLE_PERMISSIONS,
    READ_SPACE,
    Authority,
    DesiredState,
    LiveState,
    Principal,
)
from reconciler.plan.changes import Change, ChangeKind, Check, Plan, SafetyFinding

REMOVAL_FLOOR = 10  # the removal fraction applies once the scope holds this many live assignments
REFUSAL = f"apply refuses this plan without {SafetyFinding.OVERRIDE}"


@dataclass(frozen=True)
class Guard:
    """Who is never removed or downgraded, and how to tell a downgrade."""

    protected: frozenset[Principal]
    actor: Principal
    role_permissions: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, desired: DesiredState, live: LiveState) -> Guard:
        perms: dict[str, frozenset[str]] = dict(DEFAULT_ROLE_PERMISSIONS)
        perms.update({name: role.permissions for name, role in desired.roles.items()})
        perms.update({name: role.permissions for name, role in live.roles.items()})
        return cls(frozenset(desired.safety.protected), desired.site.actor, perms)

    def why_kept(self, principal: Principal) -> str | None:
        if principal == self.actor:
            return "kept: the actor (site.actor) is never removed or downgraded"
        if principal in self.protected:
            return "kept: protected principal (safety.protected) is never removed or downgraded"
        return None

    def is_downgrade(self, old_role: str, new_role: str) -> bool:
        if old_role == ADMIN_ROLE:
            return new_role != ADMIN_ROLE
        old = self.role_permissions.get(old_role, frozenset())
        new = self.role_permissions.get(new_role, frozenset())
        return bool(old - new)

    def takes_access(self, change: Change) -> bool:
        if change.kind in (ChangeKind.UNASSIGN, ChangeKind.REVOKE):
            return True
        return (
            change.kind is ChangeKind.REASSIGN
            and change.old_role is not None
            and change.role is not None
            and self.is_downgrade(change.old_role, change.role)
        )


def check_plan(plan: Plan, desired: DesiredState, live: LiveState) -> tuple[SafetyFinding, ...]:
    """Every safety finding of ``plan``, in a fixed order; empty when the plan is safe."""
    findings: list[SafetyFinding] = []
    findings += _removal_fraction(plan, desired.safety.max_removal_fraction)
    by_space: dict[str, list[Change]] = {}
    for change in plan.changes:
        if change.space is not None:
            by_space.setdefault(change.space, []).append(change)
    after = {
        space.key: _after(by_space.get(space.key, []), live, space.key)
        for space in plan.spaces
        if space.key in live.spaces
    }
    for space in plan.spaces:
        admins = after.get(space.key)
        if admins is not None and space.authority is Authority.EXACT:
            findings += _min_admins(space.key, admins, desired.safety.min_admins_per_space)
    findings += _protected(plan, Guard.of(desired, live))
    actor = desired.site.actor
    for key, admins in sorted(after.items()):
        if actor not in admins:
            findings.append(SafetyFinding(
                Check.ACTOR_ADMIN,
                f"space {key}: the actor {actor.display} would not hold Admin after this plan, so the tool "
                f"could no longer manage the space; assign it Admin in the policy ({REFUSAL})",
                key,
            ))
    return tuple(findings)


def _removal_fraction(plan: Plan, limit: float) -> list[SafetyFinding]:
    total = plan.live_assignments
    removals = sum(1 for c in plan.changes if c.kind in (ChangeKind.UNASSIGN, ChangeKind.REVOKE))
    if total < REMOVAL_FLOOR or removals <= limit * total:
        return []
    return [SafetyFinding(
        Check.REMOVAL_FRACTION,
        f"the plan removes {removals} of {total} live assignments and grants in scope "
        f"({removals / total:.0%}), more than safety.max_removal_fraction {limit:.0%} ({REFUSAL})",
    )]


def _min_admins(key: str, admins: frozenset[Principal], minimum: int) -> list[SafetyFinding]:
    if len(admins) >= minimum:
        return []
    return [SafetyFinding(
        Check.MIN_ADMINS,
        f"space {key}: {len(admins)} admin(s) after this plan, fewer than safety.min_admins_per_space "
        f"{minimum} ({REFUSAL})",
        key,
    )]


def _protected(plan: Plan, guard: Guard) -> list[SafetyFinding]:
    findings: list[SafetyFinding] = []
    for change in plan.changes:
        if change.principal is None or guard.why_kept(change.principal) is None:
            continue
        if guard.takes_access(change):
            who = "the actor" if change.principal == guard.actor else "protected principal"
            findings.append(SafetyFinding(
                Check.PROTECTED,
                f"space {change.space}: the plan would {_verb(change, f'{who} {change.principal.display}')} "
                f"({REFUSAL})",
                change.space,
            ))
    return findings


def _verb(change: Change, who: str) -> str:
    if change.kind is ChangeKind.REASSIGN:
        return f"downgrade {who} from {change.old_role} to {change.role}"
    if change.kind is ChangeKind.REVOKE:
        return f"revoke {change.permission} from {who}"
    return f"remove {who} ({change.old_role})"


def _after(changes: list[Change], live: LiveState, key: str) -> frozenset[Principal]:
    """Who holds Admin (the role, or ``administer/space``) in a space once the plan is applied."""
    space = live.spaces[key]
    roles: dict[Principal, str] = dict(space.assignments) if live.mode.has_roles else {}
    grants: dict[Principal, set[str]] = (
        {p: set(perms) for p, perms in space.grants.items()} if live.mode.has_legacy else {}
    )
    for change in changes:
        principal = change.principal
        if principal is None:
            continue
        if change.kind in (ChangeKind.ASSIGN, ChangeKind.REASSIGN) and change.role:
            roles[principal] = change.role
        elif change.kind is ChangeKind.UNASSIGN:
            roles.pop(principal, None)
        elif change.kind is ChangeKind.GRANT and change.permission:
            grants.setdefault(principal, set()).add(change.permission)
        elif change.kind is ChangeKind.REVOKE and change.permission:
            held = grants.get(principal, set())
            if change.permission == READ_SPACE:
                held.clear()  # revoking read/space drops every other permission of that principal
            held.discard(change.permission)
    admins = {p for p, role in roles.items() if role == ADMIN_ROLE}
    admins |= {p for p, perms in grants.items() if ADMINISTER_SPACE in perms}
    return frozenset(admins)
