"""Plan findings about the names a policy uses, checked against what the site says (issue 12, items 3, 4).

Each finding is one line that starts with the ``file:line`` of the name, and blocks apply like any safety
finding:

- an account id the policy names that ``GET /user/bulk`` does not know (else it fails only at apply, with
  ``400: No user found with accountId``);
- a ``safety.protected`` principal the site does not have: a typo there would silently drop the protection;
- a custom role's permission id the site's catalogue (``GET /space-permissions``) does not list, with the
  closest catalogue id;
- on a roles-only site, a role given to someone with permissions the account the tool runs as does not hold
  in that space, when that account is not a product admin (since mid-2026 only product admins may grant
  what they do not hold themselves; issue 12).

The unknown-group finding (``safety._unknown_groups``) gets its "did you mean" from ``did_you_mean`` here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence

from reconciler.live_state import Caller, LiveSpace, LiveState
from reconciler.model import ACCESS_CLASSES, DesiredState, Principal, PrincipalKind, RoleMode, Source
from reconciler.plan.changes import AssignmentChange, Change, ChangeKind, RoleChange, of_kinds
from reconciler.plan.plan import SafetyCheck, SafetyFinding

REFUSAL = f"apply refuses this plan without {SafetyFinding.OVERRIDE}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    found = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{found[0]}'?)" if found else ""


def site_name_findings(
    changes: Sequence[Change], desired: DesiredState, live: LiveState
) -> list[SafetyFinding]:
    return [
        *_missing_accounts(desired, live),
        *_protected_missing(desired, live),
        *_unknown_permissions(changes, desired, live),
        *_not_held(changes, desired, live),
    ]


# ------------------------------------------------------------------------------------------------ accounts


def named_accounts(desired: DesiredState) -> dict[str, tuple[Source, str]]:
    """Every account id the policy names -> (where first, how: ``person 'ann'`` or ``user:<id>``)."""
    named: dict[str, tuple[Source, str]] = {}
    for handle, person in sorted(desired.people.items(), key=lambda item: _order(item[1].source)):
        named.setdefault(person.account_id, (person.source, f"person '{handle}'"))
    places: list[tuple[Principal, Source]] = []
    for space in desired.spaces.values():
        places += [(a.principal, a.source) for a in space.assignments]
        places += [(g.principal, g.source) for g in space.grants]
    for rule in desired.defaults:
        places += [(a.principal, a.source) for a in rule.assignments]
    places += [(p, desired.safety.protected_at[p]) for p in desired.safety.protected
               if p in desired.safety.protected_at]
    for principal, source in sorted(places, key=lambda item: _order(item[1])):
        if principal.kind is PrincipalKind.USER and principal.id not in ("-", "anonymous"):
            named.setdefault(principal.id, (source, f"user:{principal.id}"))
    return named


def _order(source: Source) -> tuple[str, int, int]:
    return (source.file, source.line, source.column)


def _missing_accounts(desired: DesiredState, live: LiveState) -> Iterator[SafetyFinding]:
    if live.accounts is None or not live.accounts.missing:  # the usual case: no walk of the whole policy
        return
    for account_id, (source, what) in sorted(named_accounts(desired).items(), key=lambda i: _order(i[1][0])):
        if account_id in live.accounts.missing:
            yield SafetyFinding(
                SafetyCheck.UNKNOWN_ACCOUNT,
                f"{source}: {what}: account '{account_id}' is not on the site (GET /user/bulk does not know "
                f"it; the change would fail at apply with 'No user found'); fix the account id ({REFUSAL})",
            )


def _protected_missing(desired: DesiredState, live: LiveState) -> Iterator[SafetyFinding]:
    """A typo in ``safety.protected`` must never silently drop the protection."""
    missing_accounts = live.accounts.missing if live.accounts is not None else frozenset()
    groups = set(live.site_groups) | set(live.group_ids)
    for principal in desired.safety.protected:
        where = desired.safety.protected_at.get(principal)
        at = f"{where}: " if where else ""
        if principal.kind is PrincipalKind.GROUP and live.site_groups and principal.id not in groups:
            hint = did_you_mean(principal.id, groups)
            detail = f"group '{principal.id}' is not on the site{hint}"
        elif principal.kind is PrincipalKind.USER and principal.id in missing_accounts:
            detail = f"account '{principal.id}' is not on the site"
        elif principal.kind is PrincipalKind.CLASS and principal.id not in ACCESS_CLASSES:
            detail = f"'{principal.id}' is not an access class"
        else:
            continue
        yield SafetyFinding(
            SafetyCheck.PROTECTED_MISSING,
            f"{at}safety.protected: {detail}, so nothing is protected by this entry; fix the name "
            f"({REFUSAL})",
        )


# ------------------------------------------------------------------------------------------ permissions


def _unknown_permissions(
    changes: Sequence[Change], desired: DesiredState, live: LiveState
) -> Iterator[SafetyFinding]:
    """A role the plan creates or updates with an id the site's catalogue does not list."""
    if not live.mode.has_roles or not live.permissions:
        return
    for change in of_kinds(changes, (ChangeKind.CREATE_ROLE, ChangeKind.UPDATE_ROLE)):
        if not isinstance(change, RoleChange):
            continue
        role = desired.roles.get(change.name)
        if role is None:
            continue
        for perm in sorted(role.permissions - live.permissions):
            where = f"{role.source}: " if role.source else ""
            yield SafetyFinding(
                SafetyCheck.UNKNOWN_PERMISSION,
                f"{where}role '{role.name}': permission '{perm}' is not in the site's catalogue "
                f"(GET /space-permissions){did_you_mean(perm, live.permissions)}; creating or updating the "
                f"role would fail ({REFUSAL})",
            )


def _not_held(changes: Sequence[Change], desired: DesiredState, live: LiveState) -> Iterator[SafetyFinding]:
    """Roles-only sites: a non-product-admin may give only permissions it holds in that space."""
    caller = live.caller
    if live.mode is not RoleMode.ROLES or caller is None or caller.product_admin:
        return
    roles = {name: role.permissions for name, role in live.roles.items()}
    roles.update((name, role.permissions) for name, role in desired.roles.items())
    for change in changes:
        if not isinstance(change, AssignmentChange) or change.role is None:
            continue
        space = live.spaces.get(change.space)
        if space is None:
            continue
        lacking = sorted(roles.get(change.role, frozenset()) - held_by(caller, space, roles))
        if lacking:
            where = f"{change.source}: " if change.source else ""
            yield SafetyFinding(
                SafetyCheck.GRANT_NOT_HELD,
                f"{where}space {change.space}: giving {change.principal.display} role '{change.role}' needs "
                f"{', '.join(lacking)}, which the account the tool runs as does not hold there; on a "
                f"roles-only site only a product admin may grant what it does not hold ({REFUSAL})",
                change.space,
            )


def held_by(caller: Caller, space: LiveSpace, roles: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """What the caller holds in a space through its own, its groups' and its access classes' roles."""
    mine: set[str] = set()
    for principal, role in space.assignments.items():
        if _includes(caller, principal):
            mine |= roles.get(role, frozenset())
    return frozenset(mine)


def _includes(caller: Caller, principal: Principal) -> bool:
    if principal.kind is PrincipalKind.USER:
        return principal.id == caller.account_id
    if principal.kind is PrincipalKind.GROUP:
        return principal.id in caller.groups
    if principal.id == "all-product-admins":
        return caller.product_admin
    return principal.id in ("anonymous-users", "authenticated-users", "all-licensed-users")
