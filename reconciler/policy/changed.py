"""Which spaces' effective policy differs between two loaded policies (``plan --changed-since REF``).

Pure: two ``DesiredState`` in, a ``ChangedScope`` out. Where a fact was declared (file, line) is not
policy, so moving an entry between files or lines changes nothing. The rules (docs/commands/plan.md):

- a ``spaces:`` entry that differs (assignments, grants, controls, authority) reaches that space;
- a ``defaults:`` rule that differs (or appears, or goes) reaches every space its selector (at either
  side) can match; a selector that can match a space the policy does not declare (a glob, a key without
  a ``spaces:`` entry, a space type) cannot be resolved without the site, so the whole policy is planned;
- a custom role that differs reaches every space that assigns it, directly or through a defaults rule;
- site, safety, people-independent settings (``guest_max_role``), deleted roles and the org's data
  security section are the whole policy.

People are not compared on their own: a changed account id changes the principals of the entries that
name the person, so those spaces differ.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model import DefaultRule, DesiredState, Source

WHOLE_SETTINGS = ("site", "safety", "guest_max_role", "deleted_roles", "data_security")
_GLOB = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class ChangedScope:
    """The spaces to plan (sorted), or ``whole`` with the reason the whole policy is planned."""

    keys: tuple[str, ...] = ()
    whole: str = ""  # why the whole policy is planned; empty when ``keys`` is the scope


def semantic(value: Any) -> Any:  # noqa: PLR0911 - one case per kind of value
    """``value`` as plain comparable data, without where it was declared (``Source``)."""
    if isinstance(value, Source):
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple((f.name, semantic(getattr(value, f.name))) for f in dataclasses.fields(value)
                     if f.name not in ("source", "declared_at", "protected_at", "owners"))
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), semantic(v)) for k, v in value.items()))
    if isinstance(value, (frozenset, set)):
        return tuple(sorted(map(repr, map(semantic, value))))
    if isinstance(value, (tuple, list)):
        return tuple(semantic(item) for item in value)
    return value


def changed_scope(before: DesiredState, after: DesiredState) -> ChangedScope:
    """The spaces whose effective policy differs from ``before`` to ``after`` (only spaces ``after``
    manages: a space that left the policy is not touched by a plan)."""
    for name in WHOLE_SETTINGS:
        if semantic(getattr(before, name)) != semantic(getattr(after, name)):
            return ChangedScope(whole=f"{name.replace('_', ' ')} changed")
    declared = set(after.spaces)
    keys = {key for key in declared | set(before.spaces)
            if semantic(before.spaces.get(key)) != semantic(after.spaces.get(key))}
    roles = {name for name in set(before.roles) | set(after.roles)
             if semantic(before.roles.get(name)) != semantic(after.roles.get(name))}
    old_rules = {rule.name: rule for rule in before.defaults}
    new_rules = {rule.name: rule for rule in after.defaults}
    for name in sorted(set(old_rules) | set(new_rules)):
        old, new = old_rules.get(name), new_rules.get(name)
        if semantic(old) == semantic(new) and not (_assigns(old, roles) or _assigns(new, roles)):
            continue
        rule_keys = set().union(*(_reach(rule, declared) for rule in (old, new) if rule is not None))
        if None in rule_keys:
            return ChangedScope(whole=f"defaults rule {name!r} changed and its selector can match spaces "
                                "the policy does not declare")
        keys |= {key for key in rule_keys if isinstance(key, str)}
    for state in (before, after):
        keys |= {key for key, space in state.spaces.items()
                 if any(a.role in roles for a in space.assignments)
                 or any(g.compiled_from in roles for g in space.grants)}
    return ChangedScope(keys=tuple(sorted(keys & declared)))


def _assigns(rule: DefaultRule | None, roles: Iterable[str]) -> bool:
    return rule is not None and any(a.role in set(roles) for a in rule.assignments)


def _reach(rule: DefaultRule, declared: set[str]) -> set[str | None]:
    """The declared spaces ``rule`` can match, with ``None`` when it can match an undeclared one."""
    selector = rule.selector
    if selector.types or any(_GLOB & set(pattern) or pattern not in declared for pattern in selector.keys):
        return {None}
    return {key for key in selector.keys
            if not any(fnmatch.fnmatchcase(key, pattern) for pattern in selector.exclude)}
