"""The semantic checks of DESIGN.md §3, run on the merged policy (after the per-file schema checks).

Each check returns ``Problem``s at a key or value of the file that declared the offending thing; names
that look misspelt get a "did you mean". ``check_policy`` runs them all; nothing stops at the first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from reconciler import vocabulary
from reconciler.errors import Problem, Severity
from reconciler.model import (
    ALL_APPS,
    DEFAULT_ROLES,
    MAX_OVERRIDE_APPS,
    MAX_OVERRIDE_SPACES,
    NONE_ROLE,
    READ_SPACE,
    DsRule,
    Platform,
    Principal,
    SpaceSelector,
)
from reconciler.permissions import CLOUD_TO_DC, DC_MISSING, DC_PERMISSIONS, KNOWN_PERMISSIONS, space_admins
from reconciler.policy.access import check_access, check_role_or_grants
from reconciler.policy.context import Context, role_permissions
from reconciler.policy.document import Entry, Merged, did_you_mean
from reconciler.policy.platform import check_datacenter, merged_platform
from reconciler.policy.resolve import PrincipalRefError, controls, parse_principal, person_account
from reconciler.policy.schema import CONTROL_RULES, SpaceSpec

GRANTS_WITHOUT_READ = (f"grants without {READ_SPACE} cannot be kept: Confluence drops every permission of a "
                       f"principal that lacks {READ_SPACE}; add {READ_SPACE}")
_URL = re.compile(r"^(?:https?://[^\s/]+(?:/[^\s]*)?|sandbox:[A-Za-z0-9][A-Za-z0-9=,:.+_-]*)$")
_OWNER = re.compile(r"^(?:@[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")
_HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_policy(merged: Merged, *, today: dt.date) -> list[Problem]:
    """Every semantic problem of the merged policy (errors and warnings)."""
    ctx = Context.of(merged)
    problems = list(_required(merged))
    for check in (_site, _safety, _people, _roles, _spaces, _defaults, _min_admins, _data_security,
                  check_access, check_role_or_grants):
        problems.extend(check(ctx))
    problems.extend(check_datacenter(merged))
    problems.extend(_drift(ctx, today))
    return problems


def _required(merged: Merged) -> Iterator[Problem]:
    if "version" not in merged.seen and merged.files:
        yield Problem(merged.policy_dir, 1, 1, "no file declares 'version: 1'")
    if "site" not in merged.seen and merged.files:
        yield Problem(merged.policy_dir, 1, 1,
                      "no file declares 'site:' (url, actor and default_authority are required)")


def _site(ctx: Context) -> Iterator[Problem]:
    entry = ctx.merged.site
    if entry is None:
        return
    site = entry.value
    if not _URL.match(site.url):
        yield entry.problem(("url",), "expected https://<site>.atlassian.net, "
                            "https://api.atlassian.com/ex/confluence/<cloudId> or sandbox:<name>, "
                            f"got '{site.url}'", at="value")
    if site.actor not in ctx.accounts:
        hint = did_you_mean(site.actor, ctx.accounts)
        yield entry.problem(("actor",), f"unknown person '{site.actor}'{hint}; the actor must be listed "
                            "under people:", at="value")
    yield from _owners(entry, site.owners)


def _owners(entry: Entry[Any], owners: list[str]) -> Iterator[Problem]:
    for i, owner in enumerate(owners):
        if not _OWNER.match(owner):
            yield entry.problem(("owners", i), f"owner '{owner}' is not @user, @org/team or an email address",
                                at="value")


def _principal_problem(ctx: Context, entry: Entry[Any], sub: tuple[str | int, ...], ref: str,
                       *, at_key: bool) -> Iterator[Problem]:
    try:
        parse_principal(ref, ctx.accounts)
    except PrincipalRefError as err:
        message = str(err)
        if message.startswith("unknown person") and "did you mean" not in message:
            message += f"; add it under `people:` in {_people_file(ctx)} (handle: account id)"
        if at_key:
            yield entry.problem(sub, message, parent=True)
        else:
            yield entry.problem(sub, message, at="value")


def _people_file(ctx: Context) -> str:
    """Where the policy lists its people (the first file that does), else ``people.yaml`` beside it."""
    for entry in ctx.merged.people.values():
        return entry.doc.file
    return f"{ctx.merged.policy_dir.rstrip('/')}/people.yaml"


def _safety(ctx: Context) -> Iterator[Problem]:
    entry = ctx.merged.safety
    if entry is None:
        return
    for i, ref in enumerate(entry.value.protected):
        yield from _principal_problem(ctx, entry, ("protected", i), ref, at_key=False)


def _people(ctx: Context) -> Iterator[Problem]:
    owner_of: dict[str, tuple[str, Entry[Any]]] = {}
    for handle, entry in ctx.merged.people.items():
        if not _HANDLE.match(handle):
            yield entry.problem((), f"handle '{handle}' may use only letters, digits, '.', '_' and '-'",
                                parent=True)
        account_id = person_account(entry.value)[0]
        if account_id in owner_of:
            first, first_entry = owner_of[account_id]
            yield entry.problem((), f"account id '{account_id}' is already used by '{first}' at "
                                f"{first_entry.where()}", at="value")
        else:
            owner_of[account_id] = (handle, entry)


def _permission_list(
    entry: Entry[Any], sub: tuple[str | int, ...], perms: list[str],
    known: tuple[str, ...] = KNOWN_PERMISSIONS, *, cloud_role: bool = False,
) -> Iterator[Problem]:
    """On Cloud a role may use any id of the site's catalogue (plan checks it there): an id close to a known
    one is a typo, another unknown id a warning; an individual (v1) grant takes the documented pairs only."""
    seen: set[str] = set()
    for i, perm in enumerate(perms):
        if perm in seen:
            yield entry.problem((*sub, i), f"permission '{perm}' is listed twice", at="value")
        elif perm in known:
            pass
        elif cloud_role and perm not in vocabulary.KNOWN:
            yield from _unknown_role_permission(entry, (*sub, i), perm)
        elif not cloud_role:
            yield entry.problem((*sub, i), _not_grantable(perm, known), at="value")
        seen.add(perm)


def _unknown_role_permission(entry: Entry[Any], path: tuple[str | int, ...], perm: str) -> Iterator[Problem]:
    if vocabulary.closest(perm, vocabulary.KNOWN) is not None or "/" not in perm:
        hint = did_you_mean(perm, sorted(vocabulary.KNOWN))
        yield entry.problem(path, f"unknown permission '{perm}'{hint}", at="value")
        return
    yield entry.problem(path, f"permission '{perm}' is neither documented nor seen on live sites; plan "
                        "checks it against the site's catalogue (GET /space-permissions)", at="value",
                        severity=Severity.WARNING)


def _not_grantable(perm: str, known: tuple[str, ...]) -> str:
    if perm in vocabulary.OBSERVED_LIVE and known == KNOWN_PERMISSIONS:
        return (f"'{perm}' cannot be granted as an individual permission (v1 grants take only the documented "
                "key/target pairs); put it in a custom role")
    return f"unknown permission '{perm}'{did_you_mean(perm, known)}"


def _roles(ctx: Context) -> Iterator[Problem]:
    limit = ctx.merged.site.value.custom_role_limit if ctx.merged.site else 10
    ordered = sorted(ctx.merged.roles.items(), key=lambda item: item[1].doc.source(item[1].path))
    count = 0
    for name, entry in ordered:
        if name in DEFAULT_ROLES or name == NONE_ROLE:
            yield entry.problem((), f"'{name}' is a built-in role name; default roles are never declared",
                                parent=True)
            continue
        if isinstance(entry.value, str):  # none: delete this custom role
            continue
        vocab = _role_vocabulary(ctx)
        yield from _permission_list(entry, ("permissions",), entry.value.permissions, vocab,
                                    cloud_role=vocab == KNOWN_PERMISSIONS)
        count += 1
        if count == limit + 1:
            yield entry.problem((), f"custom role '{name}' is one more than site.custom_role_limit ({limit})",
                                parent=True)


def _role_vocabulary(ctx: Context) -> tuple[str, ...]:
    """Roles use Cloud ids; on Data Center they may also use DC's (roles are compiled into DC pairs)."""
    if merged_platform(ctx.merged) is Platform.DATACENTER:
        return (*KNOWN_PERMISSIONS, *(p for p in DC_PERMISSIONS if p not in KNOWN_PERMISSIONS))
    return KNOWN_PERMISSIONS


def _grant_vocabulary(ctx: Context) -> tuple[str, ...]:
    """Grants use the site's own ids; on DC the Cloud-only names are reported by check_datacenter."""
    if merged_platform(ctx.merged) is Platform.DATACENTER:
        return (*DC_PERMISSIONS, *CLOUD_TO_DC, *sorted(DC_MISSING))
    return KNOWN_PERMISSIONS


def _assign(ctx: Context, entry: Entry[Any], refs: Mapping[str, str]) -> Iterator[Problem]:
    """Principals and role names of one ``assign:`` mapping."""
    seen: dict[Principal, str] = {}
    for ref, role in refs.items():
        sub = ("assign", ref)
        yield from _principal_problem(ctx, entry, sub, ref, at_key=True)
        principal = ctx.principal(ref)
        if principal is not None and principal in seen:
            first = seen[principal]
            yield entry.problem(sub, f"{ref} is the same as {first} at {entry.where('assign', first)}",
                                parent=True)
        elif principal is not None:
            seen[principal] = ref
        yield from _role_name(ctx, entry, sub, role)


def _role_name(ctx: Context, entry: Entry[Any], sub: tuple[str | int, ...], role: str,
               *, allow_none: bool = True) -> Iterator[Problem]:
    if role == NONE_ROLE and allow_none:
        return
    if role in ctx.deleted:
        yield entry.problem(sub, f"role '{role}' is set to none under roles: (to be deleted) and cannot be "
                            "assigned", at="value", parent=True)
    elif role not in ctx.roles:
        options = [*ctx.roles, NONE_ROLE] if allow_none else list(ctx.roles)
        hint = did_you_mean(role, options)
        yield entry.problem(sub, f"unknown role '{role}'{hint}", at="value", parent=True)


def _spaces(ctx: Context) -> Iterator[Problem]:
    model = ctx.merged.site.value.model if ctx.merged.site else "auto"
    for entry in ctx.merged.spaces.values():
        spec = entry.value
        yield from _owners(entry, spec.owners)
        yield from _assign(ctx, entry, spec.assign)
        if spec.grants and model == "roles" and merged_platform(ctx.merged) is Platform.CLOUD:
            yield entry.problem(("grants",), "grants (individual permissions) need a site on legacy "
                                "permissions; site.model is 'roles'", parent=True)
        for ref, perms in spec.grants.items():
            yield from _principal_problem(ctx, entry, ("grants", ref), ref, at_key=True)
            if perms != NONE_ROLE:
                yield from _permission_list(entry, ("grants", ref), list(perms), _grant_vocabulary(ctx))
                if perms and READ_SPACE not in perms:
                    yield entry.problem(("grants", ref), GRANTS_WITHOUT_READ, at="value")


def _defaults(ctx: Context) -> Iterator[Problem]:
    for entry in ctx.merged.defaults:
        yield from _assign(ctx, entry, entry.value.assign)


def _min_admins(ctx: Context) -> Iterator[Problem]:
    """Declared spaces under exact authority: own admins plus admins from defaults whose keys match."""
    if ctx.merged.site is None:
        return
    minimum = ctx.merged.safety.value.min_admins_per_space if ctx.merged.safety else 1
    default_authority = ctx.merged.site.value.default_authority
    for key, entry in ctx.merged.spaces.items():
        spec = entry.value
        if (spec.authority or default_authority) != "exact" or minimum == 0:
            continue
        admins = _admins(ctx, key, spec) - _actor(ctx)  # like plan: the actor is not counted
        if len(admins) < minimum:
            yield entry.problem((), f"space '{key}' has {len(admins)} admin(s) besides the actor under exact "
                                f"authority, fewer than safety.min_admins_per_space ({minimum})", parent=True)


def _admins(ctx: Context, key: str, spec: SpaceSpec) -> set[Principal]:
    roles: dict[Principal, str] = {}
    for rule in ctx.merged.defaults:  # the space type is unknown offline: only keys and exclude count
        selector = SpaceSelector(tuple(rule.value.spaces.keys), tuple(rule.value.spaces.exclude))
        if selector.matches(key, ""):
            roles.update(_resolved(ctx, rule.value.assign))
    roles.update(_resolved(ctx, spec.assign))
    grants: dict[Principal, frozenset[str]] = {}
    for ref, perms in spec.grants.items():
        principal = ctx.principal(ref)
        if principal is not None and perms != NONE_ROLE:
            grants[principal] = frozenset(perms)
    return set(space_admins(roles, grants, lambda role: role_permissions(ctx, role)))


def _actor(ctx: Context) -> set[Principal]:
    actor = ctx.principal(f"user:{ctx.merged.site.value.actor}") if ctx.merged.site else None
    return {actor} if actor is not None else set()


def _resolved(ctx: Context, refs: Mapping[str, str]) -> Iterator[tuple[Principal, str]]:
    for ref, role in refs.items():
        principal = ctx.principal(ref)
        if principal is not None:
            yield principal, role


def _data_security(ctx: Context) -> Iterator[Problem]:
    """Space controls need the org section and the org default of their rule (an override without an ORG
    policy is ADMIN-400-24); apps are named by ARI; an override stays within the API's limits."""
    if merged_platform(ctx.merged) is Platform.DATACENTER:
        return  # check_datacenter says data security has no meaning there
    entry = ctx.merged.data_security
    if entry is not None:
        yield from _owners(entry, entry.value.owners)
    org = {(rule, subject): effect for rule, subject, effect, _ in controls(entry, ("defaults",))} if entry \
        else {}
    apps: set[str] = {subject for rule, subject in org if subject not in ("", ALL_APPS)}
    overrides: Counter[tuple[DsRule, str]] = Counter()
    for space in ctx.merged.spaces.values():
        yield from _space_controls(space, entry, org, overrides, apps)
    if entry is not None:
        yield from _org_limits(entry, overrides, apps)
    named: list[tuple[Entry[Any], tuple[str, ...], Any]] = [
        (space, ("data_security", "apps"), space.value.data_security) for space in ctx.merged.spaces.values()]
    if entry is not None:
        named.insert(0, (entry, ("defaults", "apps"), entry.value.defaults))
    for owner, path, spec in named:
        for app in sorted(spec.apps if spec else ()):
            if not _APP_ARI.match(app):
                yield owner.problem((*path, app), f"app '{app}' is not an app ARI (ari:cloud:ecosystem::app/"
                                    "<id>, as admin.atlassian.com shows it)")


def _space_controls(space: Entry[SpaceSpec], entry: Entry[Any] | None,
                    org: Mapping[tuple[DsRule, str], Any], overrides: Counter[tuple[DsRule, str]],
                    apps: set[str]) -> Iterator[Problem]:
    found = controls(space, ("data_security",))
    if found and entry is None:
        yield space.problem(("data_security",), "space controls need a data_security: section (org_id "
                            "and the org-wide defaults) in an org-level policy file")
        return
    for rule, subject, effect, _ in found:
        name = _CONTROL_NAMES[rule]
        general = (rule, ALL_APPS if rule is DsRule.APP_ACCESS else "")
        if general not in org:
            sub = ("data_security", "apps", subject) if subject not in general else ("data_security", name)
            where = f" in {entry.where('defaults')}" if entry else ""
            yield space.problem(sub, f"{name} has no org-wide default: add data_security.defaults.{name}"
                                f"{where} (a space override needs the org default)")
            continue
        if effect is not org.get((rule, subject), org[general]):
            overrides[(rule, subject)] += 1
        if subject not in general:
            apps.add(subject)


def _org_limits(entry: Entry[Any], overrides: Counter[tuple[DsRule, str]],
                apps: set[str]) -> Iterator[Problem]:
    for (rule, subject), count in sorted(overrides.items()):
        if count > MAX_OVERRIDE_SPACES:
            which = f" for {subject}" if subject not in ("", ALL_APPS) else ""
            yield entry.problem(("defaults", _CONTROL_NAMES[rule]), f"{count} spaces override "
                                f"{_CONTROL_NAMES[rule]}{which}; an override covers at most "
                                f"{MAX_OVERRIDE_SPACES} spaces (change the default)")
    if entry.value.defaults.apps and entry.value.defaults.app_access is None:
        yield entry.problem(("defaults", "apps"), "per-app defaults need the app access default: add "
                            "defaults.app_access (block or allow)")
    if len(apps) > MAX_OVERRIDE_APPS:
        yield entry.problem(("defaults",), f"{len(apps)} apps are named; app access takes at most "
                            f"{MAX_OVERRIDE_APPS} apps")


_CONTROL_NAMES = {DsRule(rule): name for name, rule in CONTROL_RULES.items()}
_APP_ARI = re.compile(r"^ari:cloud:[a-z-]+::app/[A-Za-z0-9._:/-]+$")


def _drift(ctx: Context, today: dt.date) -> Iterator[Problem]:
    entry = ctx.merged.drift
    if entry is None:
        return
    for i, item in enumerate(entry.value.ignore):
        yield from _principal_problem(ctx, entry, ("ignore", i, "principal"), item.principal, at_key=False)
        if item.until < today:
            yield entry.problem(("ignore", i, "until"), f"acknowledged drift of {item.principal} in "
                                f"{item.space} expired on {item.until.isoformat()}; remove the entry or "
                                "extend 'until'", at="value", severity=Severity.WARNING)

