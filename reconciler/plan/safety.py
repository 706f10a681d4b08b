"""Safety checks run on every plan (and again at apply): each failure is a ``SafetyFinding``.

- removal fraction: removals (unassigns, revokes, and the individual permissions a role assignment
  replaces on a transition site) above ``safety.max_removal_fraction`` of the live assignments and grants
  in scope, once the scope holds at least ``REMOVAL_FLOOR`` of them;
- unknown principals: the plan adds access for a group the site does not have (a typo); the add cannot
  succeed while the plan's removals would;
- minimum admins: a space left with fewer than ``safety.min_admins_per_space`` admins besides the actor,
  when the plan reduces that number (a space that already had too few is a note, see ``admin_notes``);
- protected principals: a change that removes or downgrades ``safety.protected`` or the actor, including
  a role update or deletion that narrows what they hold through that role;
- the actor's own admin: in every space in scope the actor must hold Admin after the plan.

Every message names the override, ``--allow-unsafe``. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from reconciler.model import (
    ADMIN_ROLE,
    ADMINISTER_SPACE,
    DEFAULT_ROLE_PERMISSIONS,
    READ_SPACE,
    DesiredState,
    LiveSpace,
    LiveState,
    Principal,
    PrincipalKind,
    RoleMode,
)
from reconciler.plan.changes import (
    ACCESS_CHANGES,
    AccessChange,
    AssignmentChange,
    Change,
    ChangeKind,
    GrantChange,
    RoleChange,
)
from reconciler.plan.plan import Plan, SafetyCheck, SafetyFinding
from reconciler.plan.site_names import did_you_mean, site_name_findings

REMOVAL_FLOOR = 10  # the removal fraction applies once the scope holds this many live assignments
REFUSAL = f"apply refuses this plan without {SafetyFinding.OVERRIDE}"
REASON_UNKNOWN_PRINCIPAL = (
    "unknown principal: the site could not name it; remove it by hand or name it in the policy"
)
_ADDS = (ChangeKind.ASSIGN, ChangeKind.GRANT)


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
        if principal not in self.kept:  # one hash lookup on the hot path: most principals are neither
            return None
        if principal == self.actor:
            return "kept: the actor (site.actor) is never removed or downgraded"
        if principal in self.protected:
            return "kept: protected principal (safety.protected) is never removed or downgraded"
        return None

    @cached_property
    def kept(self) -> frozenset[Principal]:
        return self.protected | {self.actor}

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


def check_plan(plan: Plan, desired: DesiredState, live: LiveState) -> tuple[SafetyFinding, ...]:
    """Every safety finding of ``plan``, in a fixed order; empty when the plan is safe."""
    guard = Guard.of(desired, live)
    by_space = _by_space(plan.changes)
    counts = _admin_counts(plan, live, by_space, guard)
    findings: list[SafetyFinding] = []
    findings += _removal_fraction(plan, live, guard, desired.safety.max_removal_fraction)
    findings += _unknown_groups(plan, live, by_space, guard)
    minimum = desired.safety.min_admins_per_space
    for key, (before, after, _) in counts.items():
        if after < minimum and after < before:
            findings.append(SafetyFinding(
                SafetyCheck.MIN_ADMINS,
                f"space {key}: {after} admin(s) besides the actor after this plan (down from {before}), "
                f"fewer than safety.min_admins_per_space {minimum} ({REFUSAL})",
                key,
            ))
    findings += _protected(plan, live, guard)
    findings += _roles_in_use(plan, live, guard)
    findings += site_name_findings(plan, desired, live)
    for key, (_, _, actor_admin) in counts.items():
        if not actor_admin:
            findings.append(SafetyFinding(
                SafetyCheck.ACTOR_ADMIN,
                f"space {key}: the actor {guard.actor.display} would not hold Admin after this plan, so the "
                f"tool could no longer manage the space; assign it Admin in the policy ({REFUSAL})",
                key,
            ))
    return tuple(findings)


def admin_notes(plan: Plan, desired: DesiredState, live: LiveState) -> tuple[str, ...]:
    """Spaces below the minimum of admins that the plan does not make worse: reported, not blocking."""
    minimum = desired.safety.min_admins_per_space
    counts = _admin_counts(plan, live, _by_space(plan.changes), Guard.of(desired, live))
    return tuple(
        f"space {key}: {after} admin(s) besides the actor, fewer than safety.min_admins_per_space "
        f"{minimum}; the plan does not reduce them, so this does not block it"
        for key, (before, after, _) in counts.items()
        if after < minimum and after >= before
    )


def _by_space(changes: Iterable[Change]) -> dict[str, list[AccessChange]]:
    by_space: dict[str, list[AccessChange]] = {}
    for change in changes:
        if isinstance(change, ACCESS_CHANGES):
            by_space.setdefault(change.space, []).append(change)
    return by_space


def _admin_counts(
    plan: Plan, live: LiveState, by_space: Mapping[str, list[AccessChange]], guard: Guard
) -> dict[str, tuple[int, int, bool]]:
    """Per space in scope: admins besides the actor before and after, and whether the actor is one after."""
    counts: dict[str, tuple[int, int, bool]] = {}
    for space in sorted(plan.spaces, key=lambda s: s.key):
        if space.key not in live.spaces:
            continue
        before = _admins(live, space.key, ())
        after = _admins(live, space.key, by_space.get(space.key, ()))
        counts[space.key] = (len(before - {guard.actor}), len(after - {guard.actor}), guard.actor in after)
    return counts


def removal_notes(plan: Plan, desired: DesiredState, live: LiveState) -> tuple[str, ...]:
    """A small scope (under ``REMOVAL_FLOOR``) that loses more than the fraction: shown, not blocking."""
    limit = desired.safety.max_removal_fraction
    total = plan.live_assignments
    removals = _removal_count(plan, live, Guard.of(desired, live))
    if total >= REMOVAL_FLOOR or removals == 0 or removals <= limit * total:
        return ()
    note = (
        f"the plan removes {removals} of {total} live assignments and grants in scope "
        f"({removals / total:.0%}), more than safety.max_removal_fraction {limit:.0%}; not enforced "
        f"in a scope of fewer than {REMOVAL_FLOOR}, so this does not block it"
    )
    return (note,)


def _removal_count(plan: Plan, live: LiveState, guard: Guard) -> int:
    removals = sum(1 for c in plan.changes if c.kind in (ChangeKind.UNASSIGN, ChangeKind.REVOKE))
    return removals + sum(len(replaced(c, live, guard)) for c in plan.changes if c.kind is ChangeKind.ASSIGN)


def _removal_fraction(plan: Plan, live: LiveState, guard: Guard, limit: float) -> list[SafetyFinding]:
    total = plan.live_assignments
    removals = _removal_count(plan, live, guard)
    if total < REMOVAL_FLOOR or removals <= limit * total:
        return []
    return [SafetyFinding(
        SafetyCheck.REMOVAL_FRACTION,
        f"the plan removes {removals} of {total} live assignments and grants in scope "
        f"({removals / total:.0%}), more than safety.max_removal_fraction {limit:.0%} ({REFUSAL})",
    )]


def _unknown_groups(
    plan: Plan, live: LiveState, by_space: Mapping[str, list[AccessChange]], guard: Guard
) -> list[SafetyFinding]:
    """A group the policy gives access that the site does not have: the add fails, the removals do not."""
    findings: list[SafetyFinding] = []
    seen: set[tuple[str, Principal]] = set()
    for change in plan.changes:
        if change.kind not in _ADDS or not isinstance(change, ACCESS_CHANGES):
            continue
        who, key = change.principal, change.space
        if who.kind is not PrincipalKind.GROUP:
            continue
        if who.unknown or who.id in live.group_ids or (key, who) in seen:
            continue
        seen.add((key, who))
        removes = any(c.kind in (ChangeKind.UNASSIGN, ChangeKind.REVOKE) or replaced(c, live, guard)
                      for c in by_space.get(key, ()))
        outcome = "the plan would remove access without adding it" if removes else "adding it cannot succeed"
        where = f" ({change.source})" if change.source else ""
        findings.append(SafetyFinding(
            SafetyCheck.UNKNOWN_PRINCIPAL,
            f"space {key}: group '{who.id}' does not exist on the site{where}"
            f"{did_you_mean(who.id, live.site_groups)}; {outcome}; fix the name in "
            f"the policy ({REFUSAL})",
            key,
        ))
    return findings


def _protected(plan: Plan, live: LiveState, guard: Guard) -> list[SafetyFinding]:
    findings: list[SafetyFinding] = []
    for change in plan.changes:
        if not isinstance(change, ACCESS_CHANGES) or guard.why_kept(change.principal) is None:
            continue
        if guard.takes_access(change, live):
            what = _verb(change, guard.who(change.principal), replaced(change, live, guard))
            message = f"space {change.space}: the plan would {what} ({REFUSAL})"
            findings.append(SafetyFinding(SafetyCheck.PROTECTED, message, change.space))
    return findings


def _verb(change: AccessChange, who: str, lost: frozenset[str]) -> str:
    if isinstance(change, GrantChange):
        return f"revoke {change.permission} from {who}"
    if change.kind is ChangeKind.ASSIGN:
        return (f"replace the individual permissions of {who} with {change.role}, losing "
                f"{', '.join(sorted(lost))}")
    if change.kind is ChangeKind.REASSIGN:
        return f"downgrade {who} from {change.old_role} to {change.role}"
    return f"remove {who} ({change.old_role})"


def _roles_in_use(plan: Plan, live: LiveState, guard: Guard) -> list[SafetyFinding]:
    """A custom role update that narrows, or deletes, a role the actor or a protected principal holds."""
    role_changes = [c for c in plan.changes if isinstance(c, RoleChange) and c.existing is not None]
    if not role_changes:
        return []
    by_space = _by_space(plan.changes)
    now = {key: dict(space.assignments) for key, space in live.spaces.items()}
    after = {key: _roles_after(space, by_space.get(key, ())) for key, space in live.spaces.items()}
    findings: list[SafetyFinding] = []
    for change in role_changes:
        if change.existing is None:
            continue
        old = change.existing.definition
        if change.new is None:
            lost, holders = old.permissions, _holders(old.name, [after], guard)
            what = "deleting it removes the access"
        else:
            lost, holders = old.permissions - change.new.permissions, _holders(old.name, [now, after], guard)
            what = f"the update removes {', '.join(sorted(lost))}, which"
        for principal, keys in holders.items() if lost else ():
            findings.append(SafetyFinding(
                SafetyCheck.PROTECTED,
                f"role {old.name}: {what} {guard.who(principal)} holds through it in {', '.join(keys)} "
                f"({REFUSAL})",
            ))
    return findings


def _holders(
    role: str, states: Sequence[Mapping[str, Mapping[Principal, str]]], guard: Guard
) -> dict[Principal, list[str]]:
    """The actor and protected principals holding ``role`` in any of these states, with the spaces."""
    found: dict[Principal, set[str]] = {}
    for state in states:
        for key, assignments in state.items():
            for principal, held in assignments.items():
                if held == role and guard.why_kept(principal) is not None:
                    found.setdefault(principal, set()).add(key)
    return {principal: sorted(keys) for principal, keys in sorted(found.items())}


def _roles_after(space: LiveSpace, changes: Iterable[AccessChange]) -> dict[Principal, str]:
    roles = dict(space.assignments)
    for change in changes:
        if not isinstance(change, AssignmentChange):
            continue
        if change.role is not None:
            roles[change.principal] = change.role
        else:
            roles.pop(change.principal, None)
    return roles


def _admins(live: LiveState, key: str, changes: Iterable[AccessChange]) -> frozenset[Principal]:
    """Who holds Admin (the role, or ``administer/space``) in a space once ``changes`` are applied."""
    space = live.spaces[key]
    roles: dict[Principal, str] = dict(space.assignments) if live.mode.has_roles else {}
    grants: dict[Principal, set[str]] = (
        {p: set(perms) for p, perms in space.grants.items()} if live.mode.has_legacy else {}
    )
    for change in changes:
        principal = change.principal
        if isinstance(change, AssignmentChange):
            if change.role is None:
                roles.pop(principal, None)
                continue
            if change.old_role is None and principal not in roles:
                grants.pop(principal, None)  # on a transition site a role replaces individual permissions
            roles[principal] = change.role
        elif change.kind is ChangeKind.GRANT:
            grants.setdefault(principal, set()).add(change.permission)
        else:
            held = grants.get(principal, set())
            if change.permission == READ_SPACE:
                held.clear()  # revoking read/space drops every other permission of that principal
            held.discard(change.permission)
    admins = {p for p, role in roles.items() if role == ADMIN_ROLE}
    admins |= {p for p, perms in grants.items() if ADMINISTER_SPACE in perms}
    return frozenset(admins)
