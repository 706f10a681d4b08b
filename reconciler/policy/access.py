"""Who may hold what: guests (``guests.max_role``, never admin/export/restrict, never write) and
anonymous users (never write). Applied to every assignment and grant in ``spaces`` and ``defaults``.

And a principal holds a role or individual permissions in a space, never both (``check_role_or_grants``):
on a transition site assigning a role replaces the principal's permissions, so a policy asking for both
would be applied again at every run and never converge."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from reconciler.errors import Problem
from reconciler.model import NONE_ROLE, Principal, PrincipalKind, SpaceSelector
from reconciler.permissions import GUEST_FORBIDDEN, WRITE_PERMISSIONS
from reconciler.policy.context import Context, role_permissions
from reconciler.policy.document import Entry, did_you_mean

ANONYMOUS = Principal(PrincipalKind.CLASS, "anonymous-users")
GRANTS = "the grants"
ROLE_OR_GRANTS = ("a principal holds a role or individual permissions in a space, not both (the site "
                  "replaces the permissions when the role is assigned, so apply would never converge): keep "
                  "one, or set the role to none")


def check_access(ctx: Context) -> Iterator[Problem]:
    max_role = yield from _max_role(ctx)
    limit = role_permissions(ctx, max_role) if max_role else None
    entries: list[Entry[Any]] = [*ctx.merged.spaces.values(), *ctx.merged.defaults]
    for entry in entries:
        for ref, role in entry.value.assign.items():
            if role == NONE_ROLE or role not in ctx.roles:
                continue
            yield from _holder(ctx, entry, ("assign", ref), (role_permissions(ctx, role), role), limit)
        for ref, perms in getattr(entry.value, "grants", {}).items():
            if perms != NONE_ROLE:
                yield from _holder(ctx, entry, ("grants", ref), (frozenset(perms), GRANTS), limit)


def _max_role(ctx: Context) -> Generator[Problem, None, str | None]:
    """Problems with ``guests.max_role``; returns the role when it is usable."""
    entry = ctx.merged.guests
    if entry is None:
        return None
    role = entry.value.max_role
    if role not in ctx.roles:
        hint = did_you_mean(role, ctx.roles)
        yield entry.problem(("max_role",), f"unknown role '{role}'{hint}", at="value")
        return None
    perms = role_permissions(ctx, role)
    bad = perms & GUEST_FORBIDDEN or perms & WRITE_PERMISSIONS
    if bad:
        yield entry.problem(("max_role",), f"{role} includes {_listed(bad)}, which guests may never hold",
                            at="value")
        return None
    return role


def _holder(ctx: Context, entry: Entry[Any], sub: tuple[str, str], held: tuple[frozenset[str], str],
            limit: frozenset[str] | None) -> Iterator[Problem]:
    """``held``: the permissions and what gives them (a role name, or the grants)."""
    perms, what = held
    principal = ctx.principal(sub[1])
    if principal is None:
        return
    verb, pronoun = ("include", "they") if what == GRANTS else ("includes", "it")
    if principal == ANONYMOUS and perms & WRITE_PERMISSIONS:
        yield entry.problem(sub, f"anonymous users cannot have write access: {what} {verb} "
                            f"{_listed(perms & WRITE_PERMISSIONS)}", at="value", parent=True)
    if principal.kind is not PrincipalKind.USER or principal.id not in ctx.guests:
        return
    who = f"guest '{principal.label or principal.id}'"
    if perms & GUEST_FORBIDDEN:
        forbidden = _listed(perms & GUEST_FORBIDDEN)
        yield entry.problem(sub, f"{who} cannot hold {what}: {pronoun} {verb} {forbidden} "
                            "(guests may never administer, export or restrict)", at="value", parent=True)
    elif perms & WRITE_PERMISSIONS:
        yield entry.problem(sub, f"{who} cannot have write access: {what} {verb} "
                            f"{_listed(perms & WRITE_PERMISSIONS)}", at="value", parent=True)
    elif limit is not None and not perms <= limit:
        max_role = ctx.merged.guests.value.max_role if ctx.merged.guests else ""
        yield entry.problem(sub, f"{who} may hold at most {max_role} (guests.max_role), not {what}",
                            at="value", parent=True)


def check_role_or_grants(ctx: Context) -> Iterator[Problem]:
    """A principal with individual permissions (``grants``) in a space that also gets a role there, from
    the space's ``assign`` or from a ``defaults`` rule whose keys match (rules filtered by space type are
    left out: the type is unknown offline)."""
    for key, entry in ctx.merged.spaces.items():
        roles: dict[Principal, tuple[str, str]] = {}  # principal -> (role, where it comes from)
        for rule in ctx.merged.defaults:
            spaces = rule.value.spaces
            selector = SpaceSelector(tuple(spaces.keys), tuple(spaces.exclude))
            if spaces.type or not selector.matches(key, ""):
                continue
            for ref, role in rule.value.assign.items():
                principal = ctx.principal(ref)
                if principal is not None:
                    where = f"defaults rule '{rule.value.name}' ({rule.where('assign', ref)})"
                    roles[principal] = (role, where)
        for ref, role in entry.value.assign.items():
            principal = ctx.principal(ref)
            if principal is not None:
                roles[principal] = (role, entry.where("assign", ref))
        for ref, perms in entry.value.grants.items():
            principal = ctx.principal(ref)
            held = roles.get(principal) if principal is not None else None
            if perms == NONE_ROLE or held is None or held[0] == NONE_ROLE:
                continue
            yield entry.problem(("grants", ref), f"{ref} also gets the role {held[0]} in {key} from "
                                f"{held[1]}; {ROLE_OR_GRANTS}", parent=True)


def _listed(perms: frozenset[str]) -> str:
    return ", ".join(sorted(perms))
