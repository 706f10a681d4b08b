"""App access policies: compile the policy's rules into org policies, diff them against the live org, drift.

Decisions (docs/app-access.md):

- **Rules.** Each ``app_access.rules`` entry is one rule; spaces declared ``apps: blocked`` join the
  **first ``block: all`` rule**, or, when there is none, an implicit rule named ``IMPLICIT_RULE_NAME``.
- **Managed policies.** A live policy is the tool's when its name is a rule's name (or the implicit
  rule's), bare or numbered (``Confidential spaces (2/3)``). Every other policy is never changed or
  deleted, even when it covers managed spaces. Deleting a rule's policies: keep the rule with
  ``spaces: []`` (or remove it: then its policies become unmanaged and are left alone).
- **Splitting.** A policy covers at most 15 spaces of one site. A larger rule is split into numbered
  parts (``Name (i/N)``; a single part keeps the bare name). The split is sticky: a space stays in the
  live part that holds it; new spaces fill the parts with room in order, in sorted key order, then new
  parts are appended. So adding one space never moves another; emptied parts are deleted.
- **Coverage.** The tool creates ``CONTAINER`` policies. A live part of another coverage level cannot be
  changed (it is fixed once set): it is deleted, then created again, both shown in the plan. A blank
  coverage level is unassigned and is set by an update.
- **Loosening.** Deleting a policy for good, unblocking a space or letting more apps in loosens access:
  the change's ``loosens`` flag is set (and its ``reason`` starts with ``LOOSENS``, for people).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler.confluence.dsp_wire import COVERAGE_CONTAINER, MAX_APPS, MAX_SPACES_PER_INSTANCE
from reconciler.errors import PolicyError, Problem
from reconciler.model import AppBlockMode, AppPolicy, DesiredState, LiveState, Source
from reconciler.plan.changes import AppPolicyChange, ChangeKind

IMPLICIT_RULE_NAME = "Apps blocked by space owners"
LOOSENS = "loosens app access"
RECREATE = "coverage level "  # the reason of both changes of a delete-then-create pair starts so
_POLICY_FILE = "policies/app-access.yaml"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule after ``apps: blocked`` spaces joined it (spaces sorted, apps sorted)."""

    name: str
    mode: AppBlockMode
    apps: tuple[str, ...]
    spaces: tuple[str, ...]
    source: Source | None
    space_sources: Mapping[str, Source]  # spaces that joined through ``apps: blocked``: where declared


@dataclass(frozen=True, slots=True)
class Part:
    """One compiled policy: a rule's part; ``origin`` is the live part (by its number) it continues."""

    rule: str
    index: int
    policy: AppPolicy
    origin: int | None = None  # None: a new part, to create


# ------------------------------------------------------------------------------------------- compile


def app_limit_problems(desired: DesiredState) -> list[Problem]:
    """The limits the policy files must respect (more than 20 apps in a list); validation reuses this."""
    problems = []
    rules = desired.app_access.rules if desired.app_access else ()
    for number, rule in enumerate(rules):
        if len(rule.apps) > MAX_APPS:
            src = rule.source
            problems.append(Problem(
                src.file, src.line, src.column,
                f"rule '{rule.name}' lists {len(rule.apps)} apps; an app access rule lists at most "
                f"{MAX_APPS} apps (split the list into two rules)",
                path=f"app_access.rules[{number}].block",
            ))
    return problems


def compile_rules(desired: DesiredState) -> tuple[Rule, ...]:
    """The rules, with every ``apps: blocked`` space joined to the first ``block: all`` rule."""
    problems = app_limit_problems(desired)
    if problems:
        raise PolicyError(problems)
    declared = desired.app_access.rules if desired.app_access else ()
    blocked = {key: space.source for key, space in sorted(desired.spaces.items()) if space.apps_blocked}
    target = next((r.name for r in declared if r.mode is AppBlockMode.ALL), None)
    rules = []
    for rule in declared:
        joined = blocked if rule.name == target else {}
        rules.append(Rule(rule.name, rule.mode, tuple(sorted(set(rule.apps))),
                          tuple(sorted(set(rule.spaces) | set(joined))), rule.source,
                          {k: s for k, s in joined.items() if k not in rule.spaces}))
    if target is None and blocked:
        first = next(iter(blocked.values()))
        rules.append(Rule(IMPLICIT_RULE_NAME, AppBlockMode.ALL, (), tuple(blocked), first, blocked))
    return tuple(rules)


def managed_rule_names(desired: DesiredState) -> frozenset[str]:
    """Base names of the policies the tool owns: every rule's, and the implicit rule's."""
    declared = desired.app_access.rules if desired.app_access else ()
    return frozenset({r.name for r in declared} | {IMPLICIT_RULE_NAME})


def part_of(name: str, bases: Iterable[str]) -> tuple[str, int] | None:
    """``(rule name, part index)`` when ``name`` is a managed policy name, else None."""
    for base in bases:
        if name == base:
            return base, 1
        match = re.fullmatch(re.escape(base) + r" \((\d+)/(\d+)\)", name)
        if match:
            return base, int(match.group(1))
    return None


def is_managed(desired: DesiredState, policy: AppPolicy) -> bool:
    return part_of(policy.name, managed_rule_names(desired)) is not None


def compile_app_policies(
    desired: DesiredState, live: Sequence[AppPolicy] = ()
) -> tuple[AppPolicy, ...]:
    """The org policies the policy files ask for; ``live`` (the org's policies) keeps splits sticky."""
    return tuple(part.policy for part in compile_parts(desired, live))


def compile_parts(desired: DesiredState, live: Sequence[AppPolicy] = ()) -> tuple[Part, ...]:
    bases = managed_rule_names(desired)
    previous: dict[str, dict[int, AppPolicy]] = {}
    for policy in sorted(live, key=_live_order):
        found = part_of(policy.name, bases)
        if found:
            previous.setdefault(found[0], {}).setdefault(found[1], policy)
    parts: list[Part] = []
    for rule in compile_rules(desired):
        parts.extend(split_rule(rule, previous.get(rule.name, {})))
    return tuple(parts)


def split_rule(rule: Rule, previous: Mapping[int, AppPolicy]) -> list[Part]:
    """At most 15 spaces per part; spaces stay where they are live, new ones fill forward in key order."""
    wanted = set(rule.spaces)
    buckets: list[tuple[int | None, list[str]]] = []
    placed: set[str] = set()
    for index in sorted(previous):
        keep = sorted(s for s in previous[index].spaces if s in wanted and s not in placed)
        keep = keep[:MAX_SPACES_PER_INSTANCE]
        placed.update(keep)
        if keep:
            buckets.append((index, keep))
    for key in sorted(wanted - placed):
        room = next((b for _, b in buckets if len(b) < MAX_SPACES_PER_INSTANCE), None)
        if room is None:
            room = []
            buckets.append((None, room))
        room.append(key)
    count = len(buckets)
    parts = []
    for number, (origin, bucket) in enumerate(buckets, start=1):
        name = rule.name if count == 1 else f"{rule.name} ({number}/{count})"
        policy = AppPolicy(name, rule.mode, rule.apps, tuple(sorted(bucket)), COVERAGE_CONTAINER,
                           source=_part_source(rule, bucket))
        parts.append(Part(rule.name, number, policy, origin))
    return parts


def _part_source(rule: Rule, bucket: Sequence[str]) -> Source | None:
    """The rule's source; for the implicit rule, the first blocked space's file."""
    if rule.name == IMPLICIT_RULE_NAME:
        return next((rule.space_sources[k] for k in sorted(bucket) if k in rule.space_sources), rule.source)
    return rule.source


def _live_order(policy: AppPolicy) -> tuple[int, str, str]:
    """Which of two live policies claiming one part wins: CONTAINER first, then by id."""
    return (0 if policy.coverage == COVERAGE_CONTAINER else 1, policy.name, policy.id or "")


# ---------------------------------------------------------------------------------------------- diff


def diff_app_policies(desired: DesiredState, live: LiveState) -> list[AppPolicyChange]:
    """Create, update and delete changes that make the org's managed policies match the policy files."""
    live_policies = tuple(live.app_policies or ())
    bases = managed_rule_names(desired)
    claimed: dict[tuple[str, int], AppPolicy] = {}
    changes: list[AppPolicyChange] = []
    for policy in sorted(live_policies, key=_live_order):
        found = part_of(policy.name, bases)
        if found is None:
            continue
        if found in claimed:
            changes.append(AppPolicyChange(None, policy,
                                           reason=f"duplicate of managed policy '{claimed[found].name}'"))
            continue
        claimed[found] = policy
    rules = {rule.name: rule for rule in compile_rules(desired)}
    for part in compile_parts(desired, live_policies):
        old = claimed.pop((part.rule, part.origin), None) if part.origin is not None else None
        changes.extend(_diff_part(part, old, rules[part.rule]))
    for (base, _), old in claimed.items():
        still = set(rules[base].spaces) if base in rules else set()
        lost = sorted(set(old.spaces) - still)
        reason = (f"{LOOSENS}: no longer in policy; apps regain access to {_keys(lost)}" if lost
                  else "its spaces are in the rule's other policies")
        changes.append(AppPolicyChange(None, old, reason=reason, loosens=bool(lost)))
    return changes


def _diff_part(part: Part, old: AppPolicy | None, rule: Rule) -> list[AppPolicyChange]:
    new = part.policy
    if old is None:
        return [AppPolicyChange(new, source=new.source, reason=f"blocks apps in {_keys(new.spaces)}")]
    if old.coverage and old.coverage != new.coverage:
        why = (f"{RECREATE}{old.coverage} cannot change to {new.coverage}: deleted, then created "
               f"again (apps can reach {_keys(old.spaces)} between the two writes)")
        return [AppPolicyChange(None, old, source=new.source, reason=why, recreate=True),
                AppPolicyChange(new, source=new.source, reason=why, recreate=True)]
    target = replace(new, id=old.id)
    if _same(target, old):
        return []
    added = sorted(set(new.spaces) - set(old.spaces))
    joined = [rule.space_sources[k] for k in added if k in rule.space_sources]
    source = joined[0] if joined and len(joined) == len(added) else new.source
    moved = set(rule.spaces)
    return [AppPolicyChange(target, old, source=source, reason=describe_update(old, target, moved=moved),
                            loosens=update_loosens(old, target, moved=moved))]


def _same(a: AppPolicy, b: AppPolicy) -> bool:
    return (a.name, a.mode, set(a.apps), set(a.spaces), a.coverage) == (
        b.name, b.mode, set(b.apps), set(b.spaces), b.coverage)


def describe_update(old: AppPolicy, new: AppPolicy, *, moved: Collection[str] = ()) -> str:
    """``"loosens app access: unblocks FIN; renamed from 'X'"``: what an update does, loosening first.

    ``moved``: spaces still covered by another part of the same rule (leaving this part unblocks nothing).
    """
    pieces = []
    gone = set(old.spaces) - set(new.spaces)
    removed = sorted(gone - set(moved))
    added = sorted(set(new.spaces) - set(old.spaces))
    if removed:
        pieces.append(f"unblocks {_keys(removed)}")
    if gone & set(moved):
        pieces.append(f"moves {_keys(gone & set(moved))} to another part")
    if added:
        pieces.append(f"blocks apps in {_keys(added)}")
    if (old.mode, set(old.apps)) != (new.mode, set(new.apps)):
        pieces.append(f"rule: {describe_rule(old.mode, old.apps)} -> {describe_rule(new.mode, new.apps)}")
    if old.name != new.name:
        pieces.append(f"renamed from '{old.name}'")
    if old.coverage != new.coverage:
        pieces.append(f"coverage level set to {new.coverage}")
    text = "; ".join(pieces)
    return f"{LOOSENS}: {text}" if update_loosens(old, new, moved=moved) else text


def describe_rule(mode: AppBlockMode, apps: Sequence[str]) -> str:
    if mode is AppBlockMode.ALL:
        return "block all apps"
    listed = ", ".join(sorted(apps)) or "(none)"
    return f"block only {listed}" if mode is AppBlockMode.ONLY else f"block all apps except {listed}"


def update_loosens(old: AppPolicy, new: AppPolicy, *, moved: Collection[str] = ()) -> bool:
    """True when some space, or some app in some space, is blocked before and not after."""
    if set(old.spaces) - set(new.spaces) - set(moved):
        return True
    return _rule_loosens(old.mode, set(old.apps), new.mode, set(new.apps))


def _rule_loosens(old: AppBlockMode, old_apps: set[str], new: AppBlockMode, new_apps: set[str]) -> bool:
    if new is AppBlockMode.ALL:
        return False
    if old is AppBlockMode.ALL:
        return True
    if old is AppBlockMode.ONLY:
        return not old_apps <= new_apps if new is AppBlockMode.ONLY else bool(old_apps & new_apps)
    # old allowlist: everything but old_apps was blocked
    return True if new is AppBlockMode.ONLY else not new_apps <= old_apps


def _keys(keys: Iterable[str]) -> str:
    listed = sorted(keys)
    return ", ".join(listed) if listed else "no spaces"


# --------------------------------------------------------------------------------------------- drift


@dataclass(frozen=True, slots=True)
class AppPolicyDrift:
    """One way the org's app access policies differ from the policy files.

    ``kind``: ``missing`` (the policy asks for it, the org lacks it), ``changed`` (the org's differs),
    ``unexpected`` (a managed policy the policy files no longer ask for), ``coverage`` (a coverage level
    that needs delete-then-create), ``unmanaged`` (a policy the tool does not own that covers a space of
    the policy: informational, ``counts`` is False).
    """

    kind: str
    name: str
    spaces: tuple[str, ...]
    detail: str
    desired: AppPolicy | None
    live: AppPolicy | None
    source: Source | None
    counts: bool = True


def app_policy_drift(desired: DesiredState, live: LiveState) -> list[AppPolicyDrift]:
    """The app access section of the drift report (empty when app access is not in scope)."""
    if live.app_policies is None:
        return []
    changes = diff_app_policies(desired, live)  # unordered: a recreate's delete is followed by its create
    items = []
    for number, change in enumerate(changes):
        if change.kind is ChangeKind.CREATE_APP_POLICY and change.recreate:
            continue
        follower = changes[number + 1] if number + 1 < len(changes) else None
        items.append(_drift_item(change, follower.new if follower else None))
    policy_spaces = set(desired.spaces) | {s for r in compile_rules(desired) for s in r.spaces}
    for policy in live.app_policies:
        covered = sorted(set(policy.spaces) & policy_spaces)
        if covered and not is_managed(desired, policy):
            items.append(AppPolicyDrift(
                "unmanaged", policy.name, tuple(covered),
                f"not managed by this policy; also {describe_rule(policy.mode, policy.apps)} in "
                f"{_keys(covered)}", None, policy, None, counts=False))
    return sorted(items, key=lambda i: (i.name, i.kind))


def _drift_item(change: AppPolicyChange, recreated: AppPolicy | None) -> AppPolicyDrift:
    new, old = change.new, change.existing
    if change.recreate:
        new = recreated  # what the create of the pair makes
    spaces = tuple(sorted(set(new.spaces if new else ()) | set(old.spaces if old else ())))
    name = change.policy.name
    if change.recreate:
        kind, detail = "coverage", change.reason
    elif change.kind is ChangeKind.CREATE_APP_POLICY:
        kind, detail = "missing", f"not on the org; the policy blocks apps in {_keys(spaces)}"
    elif change.kind is ChangeKind.UPDATE_APP_POLICY and new is not None and old is not None:
        kind, detail = "changed", describe_drift(old, new)
    else:
        kind, detail = "unexpected", change.reason
    return AppPolicyDrift(kind, name, spaces, detail, new, old, change.source)


def describe_drift(live: AppPolicy, desired: AppPolicy) -> str:
    """How a live policy differs from the desired one, told from the live side."""
    pieces = []
    extra = sorted(set(live.spaces) - set(desired.spaces))
    lacking = sorted(set(desired.spaces) - set(live.spaces))
    if lacking:
        pieces.append(f"does not cover {_keys(lacking)}")
    if extra:
        pieces.append(f"also covers {_keys(extra)}")
    if (live.mode, set(live.apps)) != (desired.mode, set(desired.apps)):
        pieces.append(f"rule is '{describe_rule(live.mode, live.apps)}', "
                      f"policy says '{describe_rule(desired.mode, desired.apps)}'")
    if live.name != desired.name:
        pieces.append(f"named '{live.name}', policy says '{desired.name}'")
    if live.coverage != desired.coverage:
        pieces.append(f"coverage level is {live.coverage or 'unset'}, policy says {desired.coverage}")
    return "; ".join(pieces)
