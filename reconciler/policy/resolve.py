"""Resolve the merged, checked policy into frozen domain objects, and apply it to a list of spaces.

- ``resolve(merged, digest)``: ``DesiredState`` with principals parsed, people handles turned into
  account ids (the handle kept as the label), and ``defaults`` kept as selectors.
- ``effective_spaces(desired, infos)``: for each live space, the ``defaults`` rules that match it merged
  under its ``spaces:`` entry (the entry wins for every principal it names); spaces matched by nothing are
  unmanaged and left out.
- ``managed_keys(desired, infos)``: the keys of those spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

from reconciler.live_state import SpaceInfo
from reconciler.model import (
    ACCESS_CLASSES,
    ALL_APPS,
    Authority,
    DataSecurity,
    DefaultRule,
    DesiredAssignment,
    DesiredGrant,
    DesiredSpace,
    DesiredState,
    DriftIgnore,
    DsRule,
    Effect,
    EffectiveSpace,
    OrgControl,
    Person,
    Platform,
    Principal,
    PrincipalKind,
    RoleDef,
    SafetySettings,
    SiteModel,
    SiteSettings,
    Source,
    SpaceControl,
    SpaceSelector,
)
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS, compile_role_for_dc
from reconciler.policy.document import Entry, Merged, closest, did_you_mean
from reconciler.policy.platform import merged_platform, platform_of
from reconciler.policy.schema import (
    CONTROL_RULES,
    DefaultSpec,
    DriftSpec,
    PersonSpec,
    SafetySpec,
    SiteSpec,
    SpaceSpec,
)

# Atlassian account ids: 24 hex digits (older accounts) or "<number>:<uuid>".
ACCOUNT_ID = re.compile(r"^(?:[0-9a-f]{24}|[0-9]+:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$")
PRINCIPAL_KINDS = tuple(kind.value for kind in PrincipalKind)
DC_USERNAME = re.compile(r"^[^\s:]+$")  # Data Center usernames: no whitespace (a colon would be ambiguous)


class People(dict[str, str]):
    """People handles -> account ids (Data Center: usernames), with the reverse index (id -> first handle).

    ``datacenter``: ``user:<name>`` may name any DC username, not only people handles or account ids."""

    def __init__(self, ids: Mapping[str, str], *, datacenter: bool = False) -> None:
        super().__init__(ids)
        self.datacenter = datacenter
        self.handles: dict[str, str] = {}
        for handle, account_id in ids.items():
            self.handles.setdefault(account_id, handle)
        # references already parsed against these people: checks and resolve parse each one several times
        self.parsed: dict[str, Principal] = {}


class PrincipalRefError(ValueError):
    """A principal reference that cannot be resolved; ``str()`` is the message."""


def person_account(value: str | PersonSpec) -> tuple[str, bool]:
    """(account id, guest) of a ``people:`` value."""
    if isinstance(value, PersonSpec):
        return value.account_id, value.guest
    return value, False


def parse_principal(ref: str, accounts: People) -> Principal:
    """``user:<handle|accountId>``, ``group:<name>`` or ``class:<id>``; ``accounts``: handle -> id."""
    known = accounts.parsed.get(ref)
    if known is not None:
        return known
    accounts.parsed[ref] = principal = _parse_principal(ref, accounts)
    return principal


def _parse_principal(ref: str, accounts: People) -> Principal:
    kind, sep, rest = ref.partition(":")
    if not sep or kind not in PRINCIPAL_KINDS:
        match = closest(kind, PRINCIPAL_KINDS) if sep else None
        hint = f" (did you mean '{match}:{rest}'?)" if match else ""
        raise PrincipalRefError(f"invalid principal '{ref}': expected user:<handle or account id>, "
                                f"group:<name> or class:<access class>{hint}")
    if not rest.strip():
        raise PrincipalRefError(f"invalid principal '{ref}': nothing after '{kind}:'")
    if kind == PrincipalKind.USER:
        if rest in accounts:
            return Principal(PrincipalKind.USER, accounts[rest], label=rest)
        if ACCOUNT_ID.match(rest) or (accounts.datacenter and DC_USERNAME.match(rest)):
            return Principal(PrincipalKind.USER, rest, label=accounts.handles.get(rest))
        raise PrincipalRefError(f"unknown person '{rest}'{did_you_mean(rest, accounts)}")
    if kind == PrincipalKind.CLASS:
        if rest not in ACCESS_CLASSES:
            raise PrincipalRefError(f"unknown access class '{rest}'{did_you_mean(rest, ACCESS_CLASSES)}")
        return Principal(PrincipalKind.CLASS, rest)
    return Principal(PrincipalKind.GROUP, rest)


def accounts_of(merged: Merged) -> People:
    datacenter = merged_platform(merged) is Platform.DATACENTER
    return People({handle: person_account(entry.value)[0] for handle, entry in merged.people.items()},
                  datacenter=datacenter)


def resolve(merged: Merged, digest: str) -> DesiredState:
    """The checked policy as frozen domain objects (call only when ``check_policy`` found no errors)."""
    accounts = accounts_of(merged)
    if merged.site is None:  # check_policy reports a missing site first
        raise ValueError("resolve() needs a policy with a site: section")
    site = _site(merged.site, accounts)
    people = {}
    for handle, entry in merged.people.items():
        account_id, guest = person_account(entry.value)
        people[handle] = Person(handle, account_id, guest, entry.source())
    roles = {name: RoleDef(name, e.value.description, frozenset(e.value.permissions), e.source())
             for name, e in merged.roles.items() if not isinstance(e.value, str)}
    return DesiredState(
        site=site,
        safety=_safety(merged.safety, accounts) if merged.safety else SafetySettings(),
        people=people,
        roles=roles,
        defaults=tuple(_default_rule(entry, accounts) for entry in merged.defaults),
        spaces={key: _space(key, entry, accounts, site.default_authority)
                for key, entry in sorted(merged.spaces.items())},
        data_security=_data_security(merged),
        guest_max_role=merged.guests.value.max_role if merged.guests else None,
        drift_ignore=_drift_ignore(merged.drift, accounts) if merged.drift else (),
        digest=digest,
        policy_dir=merged.policy_dir,
        deleted_roles={name: e.source() for name, e in merged.roles.items() if isinstance(e.value, str)},
    )


def _site(entry: Entry[SiteSpec], accounts: People) -> SiteSettings:
    site = entry.value
    return SiteSettings(
        url=site.url,
        model=SiteModel(site.model),
        custom_role_limit=site.custom_role_limit,
        actor=parse_principal(f"user:{site.actor}", accounts),
        default_authority=Authority(site.default_authority),
        owners=tuple(site.owners),
        source=entry.source(),
        platform=platform_of(site),
        platform_auto=site.platform == "auto",
        allow_jsonrpc=site.jsonrpc == "allow",
    )


def _safety(entry: Entry[SafetySpec], accounts: People) -> SafetySettings:
    safety = entry.value
    protected = tuple(parse_principal(ref, accounts) for ref in safety.protected)
    return SafetySettings(
        max_removal_fraction=safety.max_removal_fraction,
        min_admins_per_space=safety.min_admins_per_space,
        protected=protected,
        protected_at={who: entry.source("protected", i) for i, who in enumerate(protected)},
    )


def _drift_ignore(entry: Entry[DriftSpec], accounts: People) -> tuple[DriftIgnore, ...]:
    return tuple(
        DriftIgnore(item.space, parse_principal(item.principal, accounts), item.reason, item.until,
                    entry.source("ignore", i))
        for i, item in enumerate(entry.value.ignore)
    )


def _assignments(
    entry: Entry[Any], refs: Mapping[str, str], accounts: People
) -> tuple[DesiredAssignment, ...]:
    result = [
        DesiredAssignment(parse_principal(ref, accounts), None if role == "none" else role,
                          entry.source("assign", ref))
        for ref, role in refs.items()
    ]
    return tuple(sorted(result, key=lambda a: a.principal))


def _default_rule(entry: Entry[DefaultSpec], accounts: People) -> DefaultRule:
    rule = entry.value
    selector = SpaceSelector(tuple(rule.spaces.keys), tuple(rule.spaces.exclude), tuple(rule.spaces.type))
    return DefaultRule(rule.name, selector, _assignments(entry, rule.assign, accounts),
                       entry.source())


def _space(key: str, entry: Entry[SpaceSpec], accounts: People, default: Authority) -> DesiredSpace:
    spec = entry.value
    grants = [
        DesiredGrant(parse_principal(ref, accounts), frozenset() if perms == "none" else frozenset(perms),
                     entry.source("grants", ref))
        for ref, perms in spec.grants.items()
    ]
    return DesiredSpace(
        key=key,
        authority=Authority(spec.authority) if spec.authority else default,
        assignments=_assignments(entry, spec.assign, accounts),
        grants=tuple(sorted(grants, key=lambda g: g.principal)),
        controls=tuple(SpaceControl(rule, effect, where, subject)
                       for rule, subject, effect, where in controls(entry, ("data_security",))),
        owners=tuple(spec.owners),
        source=entry.source(),
    )


def _data_security(merged: Merged) -> DataSecurity | None:
    entry = merged.data_security
    if entry is None:
        return None
    return DataSecurity(entry.value.org_id, tuple(
        OrgControl(rule, effect, where, subject)
        for rule, subject, effect, where in controls(entry, ("defaults",))
    ), entry.source(), tuple(entry.value.owners))


def controls(entry: Entry[Any], path: tuple[str, ...]) -> list[tuple[DsRule, str, Effect, Source]]:
    """``(rule, subject, effect, where)`` of a ``ControlsSpec`` at ``path`` under ``entry`` (app access:
    ``all_apps`` for ``app_access``, the app ARI for each ``apps`` entry), in rule order."""
    spec = entry.value
    for part in path:
        spec = getattr(spec, part)
    if spec is None:
        return []
    found = []
    for name, rule in CONTROL_RULES.items():
        value = getattr(spec, name)
        if value is not None:
            subject = ALL_APPS if rule == DsRule.APP_ACCESS else ""
            found.append((DsRule(rule), subject, Effect(value), entry.source(*path, name)))
    for app, value in sorted(spec.apps.items()):
        found.append((DsRule.APP_ACCESS, app, Effect(value), entry.source(*path, "apps", app)))
    return found


# ------------------------------------------------------------------------------ applying to live spaces


def effective_space(desired: DesiredState, info: SpaceInfo) -> EffectiveSpace | None:
    """The desired state of one space, or None when nothing in the policy matches it."""
    declared = desired.spaces.get(info.key)
    rules = [rule for rule in desired.defaults if rule.selector.matches(info.key, info.type)]
    if declared is None and not rules:
        return None
    # a later rule wins over an earlier one for the same principal, the space entry over every rule: in a
    # dict made from them in this order, each principal keeps its first place and its last assignment
    listed = [a for rule in rules for a in rule.assignments]
    listed += declared.assignments if declared is not None else ()
    grants = {g.principal: g for g in declared.grants} if declared else {}
    if desired.site.platform is Platform.DATACENTER:  # no roles on DC: each role becomes its permissions
        grants = {**compiled_grants(desired, _by_principal(listed).values()), **grants}
        listed = []
    return EffectiveSpace(
        key=info.key,
        authority=declared.authority if declared else desired.site.default_authority,
        # in principal order (kind, then id: the order of refs, "class:" < "group:" < "user:"); the sort is
        # stable, so the principals' first place and last assignment are kept as above
        assignments=_by_principal(sorted(listed, key=_BY_REF)),
        grants=grants,
        controls=declared.controls if declared else (),
        declared_at=declared.source if declared else None,
        defaults=tuple(rule.name for rule in rules),
    )


def compiled_grants(
    desired: DesiredState, assignments: Iterable[DesiredAssignment]
) -> dict[Principal, DesiredGrant]:
    """Data Center: role assignments as the DC permissions of their role ("compiled from role X");
    ``none`` is an empty set (no access). A grant the space declares for the same principal wins."""
    result: dict[Principal, DesiredGrant] = {}
    for assignment in assignments:
        if assignment.role is None:
            result[assignment.principal] = DesiredGrant(assignment.principal, frozenset(), assignment.source)
            continue
        role = desired.roles.get(assignment.role)
        perms = role.permissions if role else DEFAULT_ROLE_PERMISSIONS.get(assignment.role, frozenset())
        ops, _dropped = compile_role_for_dc(perms)
        result[assignment.principal] = DesiredGrant(assignment.principal, ops, assignment.source,
                                                    compiled_from=assignment.role)
    return result


def _by_principal(assignments: list[DesiredAssignment]) -> dict[Principal, DesiredAssignment]:
    return dict(zip(map(_PRINCIPAL, assignments), assignments, strict=True))  # in C: no frame per item


_PRINCIPAL = attrgetter("principal")
_BY_REF = attrgetter("principal.ref")  # principal order without the dataclass __lt__ (slow on large sites)


def effective_spaces(desired: DesiredState, infos: Iterable[SpaceInfo]) -> dict[str, EffectiveSpace]:
    """The managed spaces among ``infos`` by key (sorted): declared in ``spaces:`` or matched by defaults."""
    result = {}
    for info in sorted(infos, key=lambda i: i.key):
        space = effective_space(desired, info)
        if space is not None:
            result[info.key] = space
    return result


def managed_keys(desired: DesiredState, infos: Iterable[SpaceInfo]) -> set[str]:
    """Keys of the spaces among ``infos`` that the policy manages."""
    return set(effective_spaces(desired, infos))
