"""Which spaces' effective policy differs between two loaded policies (``plan --changed-since REF``).

Pure: two ``DesiredState`` in, a ``ChangedScope`` out; ``resolve_scope`` then turns its ``reach`` into
space keys against the site's space list (key, type and status of each space), which the flow reads. Where
a fact was declared (file, line) is not policy, so moving an entry between files or lines changes nothing.
The rules (docs/commands/plan.md):

- a ``spaces:`` entry that differs (assignments, grants, controls, authority) reaches that space;
- a ``defaults:`` rule that differs (or appears, or goes, or moves before or after another rule) reaches
  every space its selector (at either side, with its excludes) matches. A selector that lists only
  declared space keys, without a space type, is resolved offline; any other (a glob, an undeclared key, a
  space type) is a ``Reach``: resolved against the site's space list, never the whole policy;
- a custom role that differs reaches every space that assigns it, directly or through a defaults rule;
  one that nothing in the policy assigns is the whole policy on Cloud (a scoped plan plans only the roles
  its spaces assign, and the whole plan would create or update it);
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

from reconciler.live_state import SpaceInfo
from reconciler.model import DefaultRule, DesiredState, Platform, Source, SpaceSelector

WHOLE_SETTINGS = ("site", "safety", "guest_max_role", "deleted_roles", "data_security")
_GLOB = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Reach:
    """A changed defaults rule whose spaces only the site's space list can tell: every space one of its
    ``selectors`` (before and after the change, deduplicated) matches, among the spaces the policy manages."""

    rule: str
    why: str  # "changed", "moved", "assigns changed role 'X'"
    selectors: tuple[SpaceSelector, ...]

    def matches(self, info: SpaceInfo) -> bool:
        return any(selector.matches(info.key, info.type) for selector in self.selectors)

    def may_match(self, key: str) -> bool:
        """Whether a space of this key, of a type nobody knows, can match."""
        return any(dataclasses.replace(selector, types=()).matches(key, "") for selector in self.selectors)

    def describe(self) -> str:
        """``ENG-*``; ``ENG-*, OPS except ENG-OLD (personal)``; before and after joined by " or "."""
        return " or ".join(dict.fromkeys(map(_describe, self.selectors)))


@dataclass(frozen=True, slots=True)
class ChangedScope:
    """The spaces to plan: ``keys`` (declared spaces, sorted) and the spaces each of ``reach`` matches on
    the site; or ``whole`` with the reason the whole policy is planned."""

    keys: tuple[str, ...] = ()
    reach: tuple[Reach, ...] = ()
    whole: str = ""  # why the whole policy is planned; empty when ``keys`` and ``reach`` are the scope
    # keys whose ``spaces:`` entry went while a defaults rule may still manage them (the site tells)
    left: tuple[str, ...] = ()

    @property
    def needs_site(self) -> bool:
        """Whether the scope needs the site's space list (``resolve_scope``)."""
        return bool(self.reach or self.left) and not self.whole


@dataclass(frozen=True, slots=True)
class ResolvedScope:
    """``ChangedScope`` against the site: every key to plan (sorted), and what each ``Reach`` matched."""

    keys: tuple[str, ...]
    reached: tuple[tuple[Reach, tuple[str, ...]], ...] = ()


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
    unassigned = sorted(name for name in roles if name in after.roles and not _assigned(after, name))
    if unassigned and after.site.platform is not Platform.DATACENTER:  # DC has no roles on the site
        return ChangedScope(whole=f"custom role {unassigned[0]!r} changed and nothing in the policy assigns "
                            "it (a scoped plan plans only the roles its spaces assign)")
    reach: list[Reach] = []
    for old, new, why in _changed_rules(before.defaults, after.defaults, roles):
        rules = [rule for rule in (old, new) if rule is not None]
        offline = [_offline_reach(rule, declared) for rule in rules]
        if any(found is None for found in offline):
            selectors = tuple(dict.fromkeys(rule.selector for rule in rules))
            reach.append(Reach(rules[-1].name, why, selectors))
            continue
        keys |= set().union(*(found for found in offline if found is not None))
    for state in (before, after):
        keys |= {key for key, space in state.spaces.items()
                 if any(a.role in roles for a in space.assignments)
                 or any(g.compiled_from in roles for g in space.grants)}
    left = sorted(key for key in keys - declared
                  if any(Reach(rule.name, "", (rule.selector,)).may_match(key) for rule in after.defaults))
    return ChangedScope(keys=tuple(sorted(keys & declared)), reach=tuple(reach), left=tuple(left))


def resolve_scope(changed: ChangedScope, after: DesiredState, infos: Iterable[SpaceInfo]) -> ResolvedScope:
    """``changed`` against the site's spaces ``infos``: its keys, plus every space a ``Reach`` matches that
    ``after`` manages (declared, or current and matched by one of its defaults rules, as a plan reads
    them), and every key of ``changed.left`` the site shows still managed. A declared space the list does not
    show (archived, say) is reached when its key can match whatever its type: planning one space too many
    is safe, missing one is not."""
    listed = {info.key: info for info in infos}
    keys = set(changed.keys) | {key for key in changed.left if key in listed and _managed(after, listed[key])}
    reached: list[tuple[Reach, tuple[str, ...]]] = []
    for reach in changed.reach:
        hit = {key for key, info in listed.items() if reach.matches(info) and _managed(after, info)}
        hit |= {key for key in after.spaces if key not in listed and reach.may_match(key)}
        reached.append((reach, tuple(sorted(hit))))
        keys |= hit
    return ResolvedScope(tuple(sorted(keys)), tuple(reached))


def _managed(after: DesiredState, info: SpaceInfo) -> bool:
    """What ``ReadRequest.in_scope`` says of ``info`` for ``after``: declared, or a current space a
    selector matches (a selector never manages an archived space)."""
    return info.key in after.spaces or (info.status == "current" and any(
        rule.selector.matches(info.key, info.type) for rule in after.defaults))


def _changed_rules(
    before: Iterable[DefaultRule], after: Iterable[DefaultRule], roles: set[str]
) -> list[tuple[DefaultRule | None, DefaultRule | None, str]]:
    """(before, after, why) of each rule whose effect may differ: changed, added or removed; assigning a
    changed role; or moved (a later rule wins for a principal both name: a rule whose position among the
    rules of both sides differs may now win or lose where another matches too)."""
    old_rules = {rule.name: rule for rule in before}
    new_rules = {rule.name: rule for rule in after}
    common_old = [name for name in old_rules if name in new_rules]
    common_new = [name for name in new_rules if name in old_rules]
    moved = {name for index, name in enumerate(common_old) if common_new[index] != name}
    found = []
    for name in sorted(set(old_rules) | set(new_rules)):
        old, new = old_rules.get(name), new_rules.get(name)
        if semantic(old) != semantic(new):
            why = "changed" if old and new else "added" if new else "removed"
        elif assigned := sorted(role for role in roles if _assigns(old, role) or _assigns(new, role)):
            why = f"assigns changed role {assigned[0]!r}"
        elif name in moved:
            why = "moved"
        else:
            continue
        found.append((old, new, why))
    return found


def _assigned(state: DesiredState, role: str) -> bool:
    """Whether a space entry or a defaults rule of ``state`` assigns ``role``."""
    return any(_assigns(rule, role) for rule in state.defaults) or any(
        any(a.role == role for a in space.assignments) or any(g.compiled_from == role for g in space.grants)
        for space in state.spaces.values())


def _assigns(rule: DefaultRule | None, role: str) -> bool:
    return rule is not None and any(a.role == role for a in rule.assignments)


def _offline_reach(rule: DefaultRule, declared: set[str]) -> set[str] | None:
    """The declared spaces ``rule`` matches, or None when it may match another (the site must tell)."""
    selector = rule.selector
    if selector.types or any(_GLOB & set(pattern) or pattern not in declared for pattern in selector.keys):
        return None
    return {key for key in selector.keys
            if not any(fnmatch.fnmatchcase(key, pattern) for pattern in selector.exclude)}


def _describe(selector: SpaceSelector) -> str:
    text = ", ".join(selector.keys)
    if selector.exclude:
        text += " except " + ", ".join(selector.exclude)
    if selector.types:
        text += f" ({', '.join(selector.types)})"
    return text
