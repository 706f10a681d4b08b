"""Data security controls: compile the policy files into org policies, diff them against the org, drift.

Decisions (docs/data-security.md):

- **Compile.** For each rule the org file gives a default for: one ``ORG`` policy with that effect; one
  ``CONTAINER`` override holding every space whose owners chose the other effect (none when no space
  differs). App access does this per subject: ``all_apps`` and each app named (by ARI) at the org or in a
  space; an app named only in spaces gets an ``ORG`` policy with the ``all_apps`` default (the API wants
  one: "CONTAINER-level app access policy requires an existing ORG-level policy for the same subject").
- **Managed.** The tool manages the keys it compiles: (rule, ``ORG``|``CONTAINER``, subject) for the
  rules and subjects the files name. Every other policy (another rule, another app, another coverage
  level) is read and left alone. Of several published policies with one managed key, the oldest (by id)
  is the managed one and the others are deleted (duplicates).
- **Diff.** Published policies only: a draft enforces nothing (apply adopts it). Create, update (apply
  writes a new draft that replaces the published policy when published) or delete (v1 DELETE).
- **Loosening.** Per rule and subject, what each space gets before and after: a space (or the org) that
  was blocked and no longer is makes the change's ``reason`` start with ``LOOSENS``; reports list it
  among the removals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler.live_state import LiveState
from reconciler.model import (
    ALL_APPS,
    CONTAINER,
    ORG,
    DataSecurityPolicy,
    DesiredState,
    DsRule,
    Effect,
    OrgPolicies,
    Source,
)
from reconciler.plan import structdiff
from reconciler.plan.changes import AppPolicyChange, ChangeKind
from reconciler.plan.structdiff import Field

LOOSENS = "loosens data security"
ORG_WIDE = "the whole org"
CONTROL_NAMES: Mapping[DsRule, str] = {
    DsRule.APP_ACCESS: "app_access",
    DsRule.EXPORT: "export",
    DsRule.PUBLIC_LINKS: "public_links",
    DsRule.ANONYMOUS_ACCESS: "anonymous_access",
    DsRule.ATTACHMENT_DOWNLOAD: "attachment_download",
}
_RULE_ORDER = {rule: number for number, rule in enumerate(DsRule)}
_RULE_NAMES = frozenset(rule.value for rule in DsRule)
Key = tuple[str, str, str]
POLICY_FIELDS = (  # what a policy enforces, in the order drift names it
    Field("spaces", gained="also covers", lost="does not cover"),
    Field("effect"), Field("rule"), Field("coverage"), Field("subject"),
)
Group = tuple[DsRule, str]  # rule, subject


def control_label(rule: DsRule, subject: str = "") -> str:
    """``export``, ``app_access``, ``app_access for ari:cloud:ecosystem::app/...``."""
    name = CONTROL_NAMES[rule]
    return f"{name} for {subject}" if subject not in ("", ALL_APPS) else name


def policy_name(rule: DsRule, coverage: str, subject: str = "") -> str:
    """The name the tool gives a policy it creates (adopted policies keep theirs)."""
    what = "org default" if coverage == ORG else "spaces override"
    return f"{control_label(rule, subject)}: {what}"


# ------------------------------------------------------------------------------------------- compile


def compile_policies(desired: DesiredState) -> tuple[DataSecurityPolicy, ...]:
    """The policies the org needs, ORG default first, then the CONTAINER override of each group."""
    ds = desired.data_security
    if ds is None:
        return ()
    defaults: dict[Group, tuple[Effect, Source]] = {
        (c.rule, c.subject): (c.effect, c.source) for c in ds.defaults
    }
    chosen: dict[Group, dict[str, tuple[Effect, Source]]] = {}
    for key, space in sorted(desired.spaces.items()):
        for control in space.controls:
            chosen.setdefault((control.rule, control.subject), {})[key] = (control.effect, control.source)
    groups = sorted(set(defaults) | set(chosen), key=_group_order)
    result = []
    for group in groups:
        rule, subject = group
        effect, source = defaults.get(group) or defaults.get((rule, ALL_APPS)) or (None, None)
        if effect is None or source is None:
            continue  # validation refuses an override without its org default
        result.append(
            DataSecurityPolicy(rule, effect, ORG, subject, (), policy_name(rule, ORG, subject), source=source)
        )
        differing = {k: src for k, (e, src) in chosen.get(group, {}).items() if e is not effect}
        if differing:
            first = differing[min(differing)]
            result.append(
                DataSecurityPolicy(
                    rule,
                    effect.opposite,
                    CONTAINER,
                    subject,
                    tuple(sorted(differing)),
                    policy_name(rule, CONTAINER, subject),
                    source=first,
                )
            )
    return tuple(result)


def space_sources(desired: DesiredState) -> dict[tuple[Group, str], Source]:
    """Where each space declared each control: ((rule, subject), space key) -> source."""
    return {
        ((c.rule, c.subject), key): c.source for key, space in desired.spaces.items() for c in space.controls
    }


def _group_order(group: Group) -> tuple[int, int, str]:
    return (_RULE_ORDER[group[0]], 0 if group[1] in ("", ALL_APPS) else 1, group[1])


def managed_keys(desired: DesiredState) -> frozenset[Key]:
    """(rule, level, subject) of every policy the tool manages: ORG and CONTAINER of each compiled group."""
    groups = {(p.rule, p.subject) for p in compile_policies(desired)}
    return frozenset((rule.value, level, subject) for rule, subject in groups for level in (ORG, CONTAINER))


# ---------------------------------------------------------------------------------------------- diff


@dataclass(frozen=True, slots=True)
class Reading:
    """The org's published policies of the managed keys: the managed one of each key, and duplicates."""

    managed: Mapping[Key, DataSecurityPolicy]
    duplicates: tuple[DataSecurityPolicy, ...]
    left_out: frozenset[DsRule]  # rules an unreadable policy may hold: not planned
    notes: tuple[str, ...]


def read_org(desired: DesiredState, org: OrgPolicies) -> Reading:
    keys = managed_keys(desired)
    left_out = frozenset(DsRule(r) for u in org.unread for r in u.rules if r in _RULE_NAMES)
    notes = tuple(
        f"data security rule {', '.join(u.rules) or '(none)'}: policy '{u.name}' ({u.id}) is not "
        f"understood ({u.problem}); {'those rules are' if u.rules else 'it is'} left out of this plan"
        for u in org.unread
    )
    drafts = tuple(
        f"data security: a draft of {control_label(p.rule, p.subject)} ({p.coverage}) is on the org "
        f"(id {p.id}); it enforces nothing until published, and apply adopts it when that policy changes"
        for p in sorted(org.policies, key=lambda p: (p.key, p.id or ""))
        if p.status == "draft" and p.key in keys
    )
    managed: dict[Key, DataSecurityPolicy] = {}
    duplicates = []
    for policy in sorted(org.policies, key=lambda p: p.id or ""):
        if policy.status != "published" or policy.key not in keys or policy.rule in left_out:
            continue
        if policy.key in managed:
            duplicates.append(policy)
        else:
            managed[policy.key] = policy
    return Reading(managed, tuple(duplicates), left_out, notes + drafts)


def diff_data_security(desired: DesiredState, live: LiveState) -> list[AppPolicyChange]:
    """Create, update and delete changes that make the org's managed policies say what the files say."""
    if live.data_security is None:
        return []
    reading = read_org(desired, live.data_security)
    wanted = {p.key: p for p in compile_policies(desired) if p.rule not in reading.left_out}
    sources = space_sources(desired)
    changes: list[AppPolicyChange] = []
    for key in sorted(set(wanted) | set(reading.managed), key=_key_order):
        new, old = wanted.get(key), reading.managed.get(key)
        if new is not None and old is not None:
            target = replace(new, id=old.id, name=old.name)
            if (old.effect, set(old.spaces)) != (new.effect, set(new.spaces)):
                changes.append(AppPolicyChange(target, old, _update_source(new, old, sources)))
        elif new is not None:
            changes.append(AppPolicyChange(new, None, new.source))
        elif old is not None:
            changes.append(AppPolicyChange(None, old))
    for old in reading.duplicates:
        why = f"duplicate of the managed {old.coverage} policy of {control_label(old.rule, old.subject)}"
        changes.append(AppPolicyChange(None, old, reason=why))
    return _explained(changes, reading)


def _key_order(key: Key) -> tuple[int, int, str, int]:
    rule, level, subject = key
    return (
        _RULE_ORDER[DsRule(rule)],
        0 if subject in ("", ALL_APPS) else 1,
        subject,
        0 if level == ORG else 1,
    )


def _update_source(
    new: DataSecurityPolicy, old: DataSecurityPolicy, sources: Mapping[tuple[Group, str], Source]
) -> Source | None:
    """The space's own line when the update only adds or drops spaces that declared it; else the rule's."""
    added = sorted(set(new.spaces) - set(old.spaces))
    found = [sources[((new.rule, new.subject), k)] for k in added if ((new.rule, new.subject), k) in sources]
    return found[0] if found and len(found) == len(added) and new.effect is old.effect else new.source


def _explained(changes: list[AppPolicyChange], reading: Reading) -> list[AppPolicyChange]:
    """Each change with its reason: what it does, and ``LOOSENS ...`` first when some block goes away."""
    by_group: dict[Group, list[AppPolicyChange]] = {}
    for change in changes:
        policy = change.policy
        by_group.setdefault((policy.rule, policy.subject), []).append(change)
    out = []
    for (rule, subject), group in by_group.items():
        before = _effects(
            [p for p in reading.managed.values() if (p.rule, p.subject) == (rule, subject)]
            + [p for p in reading.duplicates if (p.rule, p.subject) == (rule, subject)]
        )
        after_policies = {
            p.key: p for p in reading.managed.values() if (p.rule, p.subject) == (rule, subject)
        }
        for change in group:
            old = change.existing
            if old is not None and old.key in after_policies and after_policies[old.key].id == old.id:
                del after_policies[old.key]
            if change.new is not None:
                after_policies[change.new.key] = change.new
        after = _effects(list(after_policies.values()))
        for change in group:
            lost = _loosened(before, after, change)
            label = control_label(rule, subject)
            reason = f"{LOOSENS}: {label} no longer blocked in {lost}" if lost else ""
            text = "; ".join(filter(None, (reason, change.reason)))
            out.append(replace(change, reason=text, loosens=bool(lost)))
    return out


Effects = tuple[Effect | None, dict[str, Effect]]  # org default, space -> the CONTAINER override's effect


def _effects(policies: Sequence[DataSecurityPolicy]) -> Effects:
    default = next((p.effect for p in policies if p.coverage == ORG), None)
    spaces: dict[str, Effect] = {}
    for policy in sorted(policies, key=lambda p: p.id or ""):
        if policy.coverage == CONTAINER:
            for key in policy.spaces:
                spaces.setdefault(key, policy.effect)
    return default, spaces


def _loosened(before: Effects, after: Effects, change: AppPolicyChange) -> str:
    """Where ``change`` lets through what was blocked: space keys, or ``ORG_WIDE``; empty when nowhere."""
    policy = change.policy
    if policy.coverage == ORG:
        was, now = before[0], after[0]
        return ORG_WIDE if was is Effect.BLOCK and now is not Effect.BLOCK else ""
    touched = set(change.new.spaces if change.new else ())
    touched |= set(change.existing.spaces if change.existing else ())
    lost = sorted(
        k
        for k in touched
        if before[1].get(k, before[0]) is Effect.BLOCK and after[1].get(k, after[0]) is not Effect.BLOCK
    )
    return ", ".join(lost)


def describe(change: AppPolicyChange) -> str:
    """``block in FIN, HR``, ``org default block``, ``allow -> block``, ``+HR -FIN``: what a change does."""
    new, old = change.new, change.existing
    if new is None:
        return f"no longer declared: {describe_policy(change.policy)}"
    if old is None:
        return describe_policy(new)
    pieces = []
    if new.effect is not old.effect:
        pieces.append(f"{old.effect.value} -> {new.effect.value}")
    added, gone = sorted(set(new.spaces) - set(old.spaces)), sorted(set(old.spaces) - set(new.spaces))
    if added:
        pieces.append(f"{new.effect.value} also in {', '.join(added)}")
    if gone:
        pieces.append(f"no longer in {', '.join(gone)}")
    return "; ".join(pieces)


def describe_policy(policy: DataSecurityPolicy) -> str:
    if policy.coverage == ORG:
        return f"org default {policy.effect.value}"
    if policy.coverage == CONTAINER:
        return f"{policy.effect.value} in {', '.join(policy.spaces) or 'no spaces'}"
    return f"{policy.effect.value} ({policy.coverage})"


# --------------------------------------------------------------------------------------------- drift


@dataclass(frozen=True, slots=True)
class PolicyDrift:
    """One way the org's data security policies differ from the policy files.

    ``kind``: ``missing`` (the files ask for it, the org lacks it), ``changed`` (the org's says something
    else), ``unexpected`` (a managed policy the files no longer ask for, or a duplicate), ``unmanaged``
    (a policy of another coverage level or subject covering a space of the policy: informational).
    """

    kind: str
    name: str
    spaces: tuple[str, ...]
    detail: str
    desired: DataSecurityPolicy | None
    live: DataSecurityPolicy | None
    source: Source | None
    counts: bool = True


def data_security_drift(desired: DesiredState, live: LiveState) -> list[PolicyDrift]:
    """The data security section of the drift report (empty when data security is not in scope)."""
    if live.data_security is None:
        return []
    items = []
    for change in diff_data_security(desired, live):
        new, old, policy = change.new, change.existing, change.policy
        spaces = tuple(sorted(set(new.spaces if new else ()) | set(old.spaces if old else ())))
        if change.kind is ChangeKind.CREATE_APP_POLICY:
            kind, detail = "missing", f"not on the org; the policy says {describe_policy(policy)}"
        elif change.kind is ChangeKind.UPDATE_APP_POLICY and new is not None and old is not None:
            kind, detail = "changed", describe_drift(old, new)
        else:
            kind, detail = "unexpected", change.reason
        items.append(
            PolicyDrift(
                kind,
                control_label(policy.rule, policy.subject) + f" ({policy.coverage})",
                spaces,
                detail,
                new,
                old,
                change.source,
            )
        )
    keys = managed_keys(desired)
    declared = set(desired.spaces)
    for policy in live.data_security.policies:
        covered = tuple(sorted(set(policy.spaces) & declared))
        if policy.status == "published" and covered and policy.key not in keys:
            items.append(
                PolicyDrift(
                    "unmanaged",
                    policy.name or policy.id or "?",
                    covered,
                    f"not managed by this policy; {control_label(policy.rule, policy.subject)} "
                    f"{describe_policy(policy)}",
                    None,
                    policy,
                    None,
                    counts=False,
                )
            )
    return sorted(items, key=lambda i: (i.name, i.kind))


def describe_drift(live: DataSecurityPolicy, desired: DataSecurityPolicy) -> str:
    """How a live policy differs from the desired one, told from the org's side, or ``""`` when it does
    not: ``policy 'Block apps (1)': the org also covers FIN; effect is allow, policy says block``."""
    what = structdiff.describe(_document(live), _document(desired), POLICY_FIELDS, side="the org")
    name = live.name or live.id or policy_name(live.rule, live.coverage, live.subject)
    return f"policy '{name}': {what}" if what else ""


def _document(policy: DataSecurityPolicy) -> dict[str, object]:
    """What a policy says (its name, id, status and source are not what it enforces)."""
    return {"spaces": frozenset(policy.spaces), "effect": policy.effect, "rule": policy.rule,
            "coverage": policy.coverage, "subject": policy.subject}
