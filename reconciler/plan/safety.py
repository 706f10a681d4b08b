"""The safety assessment: one pass over a plan's changes and the live state, giving findings and notes.

Findings (each blocks apply unless ``--allow-unsafe``):

- removal fraction: removals (unassigns, revokes, and the individual permissions a role assignment
  replaces on a transition site) above ``safety.max_removal_fraction`` of the live assignments and grants
  in scope, once the scope holds at least ``REMOVAL_FLOOR`` of them;
- unknown principals: the plan adds access for a group the site does not have (a typo); the add cannot
  succeed while the plan's removals would;
- minimum admins: a space left with fewer than ``safety.min_admins_per_space`` admins besides the actor,
  when the plan reduces that number;
- protected principals: a change that removes or downgrades ``safety.protected`` or the actor, including
  a role update or deletion that narrows what they hold through that role (``reconciler.plan.protection``);
- the actor's own admin: in every space in scope the actor must hold Admin after the plan.

Notes (shown, never blocking): a space already short of admins that the plan does not make worse, and a
scope under ``REMOVAL_FLOOR`` that loses more than the fraction. "After" is ``reconciler.plan.replay``.

Every finding names the override, ``--allow-unsafe``. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby
from operator import attrgetter

from reconciler.live_state import LiveState
from reconciler.model import DesiredState, Principal, PrincipalKind
from reconciler.plan.changes import (
    ACCESS_CHANGES,
    AccessChange,
    Change,
    ChangeKind,
    GrantChange,
    RoleChange,
    of_kinds,
)
from reconciler.plan.guests import findings as guest_findings
from reconciler.plan.plan import Plan, SafetyCheck, SafetyFinding
from reconciler.plan.protection import Guard, replaced
from reconciler.plan.replay import replay
from reconciler.plan.site_names import did_you_mean, site_name_findings
from reconciler.policy.resolve import effective_spaces
from reconciler.vocabulary import without_apps

_SPACE = attrgetter("space")
REMOVAL_FLOOR = 10  # the removal fraction applies once the scope holds this many live assignments
REFUSAL = f"apply refuses this plan without {SafetyFinding.OVERRIDE}"
_ADDS = (ChangeKind.ASSIGN, ChangeKind.GRANT)
_REMOVALS = (ChangeKind.UNASSIGN, ChangeKind.REVOKE)
_ROLE_KINDS = (ChangeKind.UPDATE_ROLE, ChangeKind.DELETE_ROLE)  # role changes with an existing role


@dataclass(frozen=True, slots=True)
class Assessment:
    findings: tuple[SafetyFinding, ...]  # in a fixed order; empty when the plan is safe
    notes: tuple[str, ...]


def assess(
    desired: DesiredState,
    live: LiveState,
    changes: Sequence[Change],
    *,
    keys: Sequence[str],
    live_assignments: int,
    guard: Guard | None = None,
) -> Assessment:
    """The findings and notes of ``changes`` on ``live``; ``keys``: the spaces in scope. Installed apps'
    users are left out: they are never changed, so they neither count as admins nor block anything."""
    live = without_apps(live)
    run = _Assessor(desired, live, changes, keys, live_assignments, guard or Guard.of(desired, live))
    return Assessment(run.findings(), run.notes())


def check_plan(plan: Plan, desired: DesiredState, live: LiveState) -> tuple[SafetyFinding, ...]:
    """The findings of ``plan``'s changes on ``live`` (a fresh read at apply)."""
    keys = [space.key for space in plan.spaces]
    live = without_apps(live)
    guard = Guard.of(desired, live)
    return _Assessor(desired, live, plan.changes, keys, plan.live_assignments, guard).findings()


@dataclass(frozen=True)
class _Assessor:
    desired: DesiredState
    live: LiveState
    changes: Sequence[Change]
    keys: Sequence[str]
    total: int  # live assignments and grants in scope
    guard: Guard

    @cached_property
    def by_space(self) -> dict[str, list[AccessChange]]:
        """Access changes by space, in plan order."""
        by_space: dict[str, list[AccessChange]] = {}
        access = [change for change in self.changes if isinstance(change, ACCESS_CHANGES)]
        for key, run in groupby(access, _SPACE):  # ordered by kind, then space: runs of one space
            by_space.setdefault(key, []).extend(run)
        return by_space

    @cached_property
    def admin_counts(self) -> dict[str, tuple[int, int, bool]]:
        """Per space in scope: admins besides the actor before and after; whether the actor is one after."""
        actor, roles, grants = self.guard.actor, self.live.mode.has_roles, self.live.mode.has_legacy
        now = {name: role.permissions for name, role in self.live.roles.items()}
        then = dict(now)  # the roles once the plan's role changes are made
        for change in self.changes:
            if isinstance(change, RoleChange):
                if change.new is None:
                    then.pop(change.name, None)
                else:
                    then[change.name] = change.new.permissions
        same_roles = then == now
        counts: dict[str, tuple[int, int, bool]] = {}
        for key in sorted(self.keys):
            space = self.live.spaces.get(key)
            if space is None:
                continue
            changes = self.by_space.get(key, ())
            before = replay(space, (), roles=roles, grants=grants).admins(now.get)
            # a space the plan does not change, under the same roles, has the same admins after (pure replay)
            after = before if same_roles and not changes else \
                replay(space, changes, roles=roles, grants=grants).admins(then.get)
            counts[key] = (len(before - {actor}), len(after - {actor}), actor in after)
        return counts

    @cached_property
    def removals(self) -> int:
        removed = len(of_kinds(self.changes, _REMOVALS))
        return removed + sum(len(replaced(c, self.live, self.guard))
                             for c in of_kinds(self.changes, (ChangeKind.ASSIGN,)))

    def findings(self) -> tuple[SafetyFinding, ...]:
        findings = self._removal_fraction() + self._unknown_groups()
        minimum = self.desired.safety.min_admins_per_space
        for key, (before, after, _) in self.admin_counts.items():
            if after < minimum and after < before:
                findings.append(SafetyFinding(
                    SafetyCheck.MIN_ADMINS,
                    f"space {key}: {after} admin(s) besides the actor after this plan (down from {before}), "
                    f"fewer than safety.min_admins_per_space {minimum} ({REFUSAL})",
                    key,
                ))
        findings += self._protected() + self._roles_in_use()
        findings += site_name_findings(self.changes, self.desired, self.live)
        for key, (_, _, actor_admin) in self.admin_counts.items():
            if not actor_admin:
                findings.append(SafetyFinding(
                    SafetyCheck.ACTOR_ADMIN,
                    f"space {key}: the actor {self.guard.actor.display} would not hold Admin after this "
                    f"plan, so the tool could no longer manage the space; assign it Admin in the policy "
                    f"({REFUSAL})",
                    key,
                ))
        findings += self._guests()
        return tuple(findings)

    def _guests(self) -> list[SafetyFinding]:
        """A group that would give a guest a role above guests.max_role (``plan/guests.py``)."""
        if self.live.guest_members is None:
            return []
        infos = [self.live.spaces[key].info for key in self.keys if key in self.live.spaces]
        authority = {key: space.authority for key, space in effective_spaces(self.desired, infos).items()}
        access = [c for c in self.changes if isinstance(c, ACCESS_CHANGES)]
        return guest_findings(self.desired, self.live, access, authority, REFUSAL)

    def notes(self) -> tuple[str, ...]:
        minimum = self.desired.safety.min_admins_per_space
        notes = [
            f"space {key}: {after} admin(s) besides the actor, fewer than safety.min_admins_per_space "
            f"{minimum}; the plan does not reduce them, so this does not block it"
            for key, (before, after, _) in self.admin_counts.items()
            if after < minimum and after >= before
        ]
        limit, total, removals = self.desired.safety.max_removal_fraction, self.total, self.removals
        if total < REMOVAL_FLOOR and removals > 0 and removals > limit * total:
            notes.append(
                f"the plan removes {removals} of {total} live assignments and grants in scope "
                f"({removals / total:.0%}), more than safety.max_removal_fraction {limit:.0%}; not enforced "
                f"in a scope of fewer than {REMOVAL_FLOOR}, so this does not block it"
            )
        return tuple(notes)

    def _removal_fraction(self) -> list[SafetyFinding]:
        limit, total, removals = self.desired.safety.max_removal_fraction, self.total, self.removals
        if total < REMOVAL_FLOOR or removals <= limit * total:
            return []
        return [SafetyFinding(
            SafetyCheck.REMOVAL_FRACTION,
            f"the plan removes {removals} of {total} live assignments and grants in scope "
            f"({removals / total:.0%}), more than safety.max_removal_fraction {limit:.0%} ({REFUSAL})",
        )]

    def _unknown_groups(self) -> list[SafetyFinding]:
        """A group the policy gives access that the site does not have: the add fails, the removals do not."""
        findings: list[SafetyFinding] = []
        seen: set[tuple[str, Principal]] = set()
        for change in of_kinds(self.changes, _ADDS):
            if not isinstance(change, ACCESS_CHANGES):
                continue
            who, key = change.principal, change.space
            if who.kind is not PrincipalKind.GROUP:
                continue
            if who.unknown or who.id in self.live.group_ids or (key, who) in seen:
                continue
            seen.add((key, who))
            removes = any(c.kind in _REMOVALS or replaced(c, self.live, self.guard)
                          for c in self.by_space.get(key, ()))
            outcome = ("the plan would remove access without adding it" if removes
                       else "adding it cannot succeed")
            where = f" ({change.source})" if change.source else ""
            findings.append(SafetyFinding(
                SafetyCheck.UNKNOWN_PRINCIPAL,
                f"space {key}: group '{who.id}' does not exist on the site{where}"
                f"{did_you_mean(who.id, self.live.site_groups)}; {outcome}; fix the name in the policy "
                f"({REFUSAL})",
                key,
            ))
        return findings

    def _protected(self) -> list[SafetyFinding]:
        guard, findings = self.guard, []
        for change in self.changes:
            if not isinstance(change, ACCESS_CHANGES) or change.principal.id not in guard.kept_ids:
                continue  # ids first: neither protected nor the actor, known without a call (hot path)
            if guard.why_kept(change.principal) is None:
                continue
            if guard.takes_access(change, self.live):
                what = _verb(change, guard.who(change.principal), replaced(change, self.live, guard))
                message = f"space {change.space}: the plan would {what} ({REFUSAL})"
                findings.append(SafetyFinding(SafetyCheck.PROTECTED, message, change.space))
        return findings

    def _roles_in_use(self) -> list[SafetyFinding]:
        """A custom role update that narrows, or deletes, a role the actor or a protected principal holds."""
        role_changes = [c for c in of_kinds(self.changes, _ROLE_KINDS)
                        if isinstance(c, RoleChange) and c.existing is not None]
        if not role_changes:
            return []
        spaces = self.live.spaces.items()
        now = {key: dict(space.assignments) for key, space in spaces}
        after = {key: replay(space, self.by_space.get(key, ()), grants=False).roles for key, space in spaces}
        findings: list[SafetyFinding] = []
        for change in role_changes:
            if change.existing is None:
                continue
            old = change.existing.definition
            if change.new is None:
                lost, holders = old.permissions, _holders(old.name, [after], self.guard)
                what = "deleting it removes the access"
            else:
                lost = old.permissions - change.new.permissions
                holders = _holders(old.name, [now, after], self.guard)
                what = f"the update removes {', '.join(sorted(lost))}, which"
            for principal, keys in holders.items() if lost else ():
                findings.append(SafetyFinding(
                    SafetyCheck.PROTECTED,
                    f"role {old.name}: {what} {self.guard.who(principal)} holds through it in "
                    f"{', '.join(keys)} ({REFUSAL})",
                ))
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


def _holders(
    role: str, states: Iterable[Mapping[str, Mapping[Principal, str]]], guard: Guard
) -> dict[Principal, list[str]]:
    """The actor and protected principals holding ``role`` in any of these states, with the spaces."""
    found: dict[Principal, set[str]] = {}
    for state in states:
        for key, assignments in state.items():
            for principal, held in assignments.items():
                if held == role and guard.why_kept(principal) is not None:
                    found.setdefault(principal, set()).add(key)
    return {principal: sorted(keys) for principal, keys in sorted(found.items())}
