"""The diff: desired state (policy) against live state (site) -> an ordered, pure ``Plan``.

Rules (DESIGN.md §4, §5; decisions written down in docs/safety.md):

- Roles sites: per space and principal one of ASSIGN, REASSIGN (one change, never remove + add) or
  UNASSIGN. ``exact`` spaces remove principals the policy does not list; ``additive`` spaces remove only
  what the policy sets to ``none``.
- Legacy and transition sites: GRANT / REVOKE per permission. A principal's listed permissions are the
  whole truth for that principal under either authority (like a role); ``none`` under ``assign`` revokes
  all its permissions too; ``exact`` also revokes everything of principals listed neither in ``grants``
  nor in ``assign``. On a PRE_ROLES site role assignments are not planned (a note says so).
- Transition sites: assigning a role to a principal on individual permissions (no role) replaces them;
  the ASSIGN carries a ``Replacement`` (the permissions replaced and lost) and a reason naming them.
- ``safety.protected`` principals and ``site.actor`` are never removed or downgraded (a role replacing
  permissions it lacks is a downgrade): such changes are withheld into ``Plan.held`` with the reason.
- Principals the site cannot name (``Principal.unknown``) are never removed: withheld into ``Plan.held``.
- ``Plan.notes`` names spaces already short of admins that the plan does not make worse.
- Custom roles: CREATE_ROLE / UPDATE_ROLE / DELETE_ROLE (only for a role the policy declares ``none``).
- Data security policies: delegated to ``reconciler.plan.data_security`` when they are in scope.
- With a ``scope`` (``--space``), site-level changes are limited to creating and updating the custom
  roles the scoped spaces assign; role deletions and app policies are left to an unscoped plan.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from reconciler.errors import UsageError
from reconciler.fingerprint import fingerprint
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import (
    Authority,
    DesiredState,
    EffectiveSpace,
    Principal,
    PrincipalKind,
    RoleDef,
    Source,
)
from reconciler.plan.changes import (
    AccessChange,
    AppPolicyChange,
    AssignmentChange,
    Change,
    ChangeKind,
    GrantChange,
    Replacement,
    RoleChange,
    SiteRole,
    ordered,
)
from reconciler.plan.data_security import diff_data_security, read_org
from reconciler.plan.plan import Plan, PlannedSpace
from reconciler.plan.protection import REASON_UNKNOWN_PRINCIPAL, Guard, custom_access
from reconciler.plan.safety import assess
from reconciler.policy.resolve import effective_spaces

REASON_NONE = "set to none in policy"
REASON_EXACT = "not in policy; space is exact"
REASON_NOT_LISTED = "not among the policy's permissions for this principal"

AppDiffer = Callable[[DesiredState, LiveState], list[AppPolicyChange]]


def build_plan(
    desired: DesiredState,
    live: LiveState,
    *,
    scope: Collection[str] = (),
    site: str | None = None,
    notes: tuple[str, ...] = (),
) -> Plan:
    """The plan that makes the live state in scope match the policy, complete: its changes, the safety
    assessment's findings and notes, then ``notes`` (what the caller left out). ``site``: the URL the plan
    shows (default: the policy's ``site.url``). Pure: no IO."""
    effective = effective_spaces(desired, [space.info for space in live.spaces.values()])
    return plan_from_effective(desired, live, effective, scope=scope, site=site, notes=notes)


def plan_from_effective(
    desired: DesiredState,
    live: LiveState,
    effective: Mapping[str, EffectiveSpace],
    *,
    scope: Collection[str] = (),
    app_differ: AppDiffer | None = None,
    site: str | None = None,
    notes: tuple[str, ...] = (),
) -> Plan:
    """``build_plan`` once defaults are merged: the seam the table-driven tests use."""
    keys = _scoped_keys(effective, live, scope)
    guard = Guard.of(desired, live)
    out = _Out()
    apps = _AppsLeftAlone()
    managed = {key: apps.without(effective[key], live.spaces[key], live) for key in keys}
    for key in keys:
        _diff_space(effective[key], managed[key], live, guard, out)
    # a scoped plan changes only the custom roles its spaces assign (a walk over every assignment: only then)
    referenced = None
    if scope:
        referenced = {a.role for k in keys for a in effective[k].assignments.values() if a.role}
    out.changes += _diff_roles(desired, live, only=referenced)
    differ = app_differ or diff_data_security
    org_notes: tuple[str, ...] = ()
    if not scope and live.data_security is not None:
        out.changes += differ(desired, live)
        org_notes = read_org(desired, live.data_security).notes
    changes = ordered(out.changes)
    live_assignments = sum(_live_count(managed[k], live) for k in keys)
    safety = assess(desired, live, changes, keys=keys, live_assignments=live_assignments, guard=guard)
    return Plan(
        site=desired.site.url if site is None else site,
        mode=live.mode.value,
        policy_digest=desired.digest,
        fingerprint=fingerprint(live, scope=keys),
        spaces=tuple(_planned(effective[k], live.spaces[k].info) for k in keys),
        changes=changes,
        findings=safety.findings,
        live_assignments=live_assignments,
        scope=tuple(sorted(scope)),
        held=ordered(out.held),
        notes=_notes(keys, effective, live) + org_notes + apps.notes() + safety.notes + notes,
    )


def _notes(keys: list[str], effective: Mapping[str, EffectiveSpace], live: LiveState) -> tuple[str, ...]:
    if live.mode.has_roles:
        return ()
    roleless = [k for k in keys if any(a.role is not None for a in effective[k].assignments.values())]
    if not roleless:
        return ()
    note = (
        f"role assignments not planned in {', '.join(roleless)}: the site is on individual permissions "
        "(PRE_ROLES); declare grants: instead"
    )
    return (note,)


def _scoped_keys(
    effective: Mapping[str, EffectiveSpace], live: LiveState, scope: Collection[str]
) -> list[str]:
    unknown = sorted(set(scope) - set(effective))
    if unknown:
        raise UsageError(f"--space {', '.join(unknown)}: not a space the policy manages")
    unread = sorted(k for k in effective if k not in live.spaces and (not scope or k in scope))
    if unread:
        # fetch is all-or-nothing; a managed space without a live read is a caller bug, never a removal
        raise UsageError(f"no live state read for managed space(s) {', '.join(unread)}")
    return sorted(k for k in effective if not scope or k in scope)


def _planned(space: EffectiveSpace, info: SpaceInfo) -> PlannedSpace:
    return PlannedSpace(
        key=space.key, id=info.id, authority=space.authority, declared_at=space.declared_at,
        defaults=space.defaults,
    )


def _live_count(space: LiveSpace, live: LiveState) -> int:
    roles = len(space.assignments) if live.mode.has_roles else 0
    grants = sum(len(p) for p in space.grants.values()) if live.mode.has_legacy else 0
    return roles + grants


@dataclass
class _AppsLeftAlone:
    """Installed apps' users (``accountType: app``) hold many permissions on every space; the plan leaves
    them alone unless the policy names them in that space, and counts them instead of listing them."""

    accounts: set[str] = field(default_factory=set)
    entries: int = 0
    spaces: set[str] = field(default_factory=set)

    def without(self, space: EffectiveSpace, live_space: LiveSpace, live: LiveState) -> LiveSpace:
        apps = live.accounts.apps if live.accounts is not None else frozenset()
        if not apps:
            return live_space
        named = set(space.assignments) | set(space.grants)

        def left_alone(principal: Principal) -> bool:
            return principal.kind is PrincipalKind.USER and principal.id in apps and principal not in named

        skipped = {p for p in [*live_space.assignments, *live_space.grants] if left_alone(p)}
        if not skipped:
            return live_space
        self.accounts |= {p.id for p in skipped}
        self.spaces.add(live_space.key)
        self.entries += sum(1 for p in live_space.assignments if p in skipped)
        self.entries += sum(len(perms) for p, perms in live_space.grants.items() if p in skipped)
        return replace(
            live_space,
            assignments={p: r for p, r in live_space.assignments.items() if p not in skipped},
            grants={p: g for p, g in live_space.grants.items() if p not in skipped},
        )

    def notes(self) -> tuple[str, ...]:
        if not self.accounts:
            return ()
        note = (f"{len(self.accounts)} app account(s) left alone ({self.entries} permission(s) and "
                f"assignment(s) in {len(self.spaces)} space(s)): installed apps' users are never changed "
                "unless a policy names them")
        return (note,)


@dataclass
class _Out:
    changes: list[Change] = field(default_factory=list)
    held: list[Change] = field(default_factory=list)


def _diff_space(
    space: EffectiveSpace, live_space: LiveSpace, live: LiveState, guard: Guard, out: _Out
) -> None:
    if live.mode.has_roles:
        _diff_assignments(space, live_space, live, guard, out)
    if live.mode.has_legacy:
        _diff_grants(space, live_space, guard, out)


def _emit(change: AccessChange, guard: Guard, out: _Out, *, losing: bool) -> None:
    """Record a change, or withhold it when it takes access from the actor, a protected principal, or a
    principal the site cannot name (whose removal nobody can have asked for by name)."""
    if losing and change.principal.unknown:
        out.held.append(replace(change, reason=REASON_UNKNOWN_PRINCIPAL))
        return
    why = guard.why_kept(change.principal) if losing else None
    if why is None:
        out.changes.append(change)
    elif isinstance(change, AssignmentChange) and change.replaces is not None:
        out.held.append(replace(change, reason=f"{why}; {change.reason}"))
    else:
        out.held.append(replace(change, reason=why))


def _diff_assignments(
    space: EffectiveSpace, live_space: LiveSpace, live: LiveState, guard: Guard, out: _Out
) -> None:
    key, current, kept_ids, changes = space.key, live_space.assignments, guard.kept_ids, out.changes
    for principal, want in space.assignments.items():
        have, role = current.get(principal), want.role
        if role is None:
            if have is not None:
                change = AssignmentChange(key, principal, None, have, source=want.source, reason=REASON_NONE)
                _emit(change, guard, out, losing=True)
        elif have is None:
            _assign(AssignmentChange(key, principal, role, None, None, want.source), role, live, guard, out)
        elif have != role:
            change = AssignmentChange(key, principal, role, have, None, want.source)
            if principal.id not in kept_ids:  # guard.why_kept(principal) is None, without the call
                changes.append(change)  # _emit(change, losing=False), without the call
                continue
            guarded = guard.why_kept(principal) is not None
            _emit(change, guard, out, losing=guarded and guard.is_downgrade(have, role))
    if space.authority is Authority.EXACT:
        for principal, have in current.items():
            if principal not in space.assignments:
                change = AssignmentChange(key, principal, None, have, reason=REASON_EXACT)
                _emit(change, guard, out, losing=True)


def _assign(change: AssignmentChange, role: str, live: LiveState, guard: Guard, out: _Out) -> None:
    """An assignment; on a transition site it replaces the principal's individual permissions."""
    custom = custom_access(live, change.space, change.principal)
    if not custom:
        out.changes.append(change)
        return
    replaces = Replacement.of(custom, guard.lost_to(custom, role))
    _emit(replace(change, replaces=replaces, reason=replaces.reason), guard, out, losing=bool(replaces.lost))


def _diff_grants(space: EffectiveSpace, live_space: LiveSpace, guard: Guard, out: _Out) -> None:
    key, current = space.key, live_space.grants
    for principal, want in space.grants.items():
        have = current.get(principal, {})
        compiled = f"compiled from role {want.compiled_from}" if want.compiled_from else ""
        for permission in sorted(want.permissions - set(have)):
            out.changes.append(GrantChange(ChangeKind.GRANT, key, principal, permission, source=want.source,
                                           reason=compiled))
        reason = REASON_NONE if not want.permissions else REASON_NOT_LISTED
        reason = f"{reason} ({compiled})" if compiled else reason
        extra = {p: i for p, i in have.items() if p not in want.permissions}
        _revoke_all(key, principal, permissions=extra, reason=reason, source=want.source, guard=guard,
                    out=out)
    for principal, have in current.items():
        if principal in space.grants:
            continue
        assigned = space.assignments.get(principal)
        if assigned is not None and assigned.role is None:  # "none" in assign: no access at all
            _revoke_all(key, principal, permissions=have, reason=REASON_NONE, source=assigned.source,
                        guard=guard, out=out)
        elif assigned is None and space.authority is Authority.EXACT:
            _revoke_all(key, principal, permissions=have, reason=REASON_EXACT, source=None, guard=guard,
                        out=out)


def _revoke_all(
    key: str,
    principal: Principal,
    *,
    permissions: Mapping[str, int],
    reason: str,
    source: Source | None,
    guard: Guard,
    out: _Out,
) -> None:
    for permission, permission_id in sorted(permissions.items()):
        change = GrantChange(ChangeKind.REVOKE, key, principal, permission, permission_id, source=source,
                             reason=reason)
        _emit(change, guard, out, losing=True)


def _diff_roles(desired: DesiredState, live: LiveState, *, only: Iterable[str] | None) -> list[RoleChange]:
    if not live.mode.has_roles:
        return []
    wanted = set(only) if only is not None else None
    changes: list[RoleChange] = []
    for name, role in sorted(desired.roles.items()):
        if wanted is not None and name not in wanted:
            continue
        if name in desired.deleted_roles:
            continue
        existing = live.roles.get(name)
        if existing is None:
            changes.append(RoleChange(role, source=role.source))
        elif not existing.system and (
            existing.description != role.description or existing.permissions != role.permissions
        ):
            changes.append(RoleChange(role, _site_role(existing), source=role.source))
    if wanted is None:
        for name, source in sorted(desired.deleted_roles.items()):
            existing = live.roles.get(name)
            if existing is not None and not existing.system:
                changes.append(RoleChange(None, _site_role(existing), source=source, reason=REASON_NONE))
    return changes


def _site_role(role: LiveRole) -> SiteRole:
    return SiteRole(RoleDef(role.name, role.description, role.permissions, system=role.system), role.id)


