"""The plan's view model: everything the text and Markdown templates show, computed here (no logic there).

Every string in it is ``escape.data``: text from the site or a policy file cannot carry a control
character, a line break or a leading ``::`` into any report (Markdown adds its own escapes in ``render``).

The summary line reads like Terraform's: ``Plan: 3 to assign, 1 to change, 2 to remove in 4 spaces; 1 custom
role to create``. Removals are listed first in PR comments: unassigns, revokes, role deletions and data
security policy changes that loosen a control (counted in the summary: ``1 data security change loosens a
control``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple, overload

from reconciler.model import Source
from reconciler.plan.changes import (
    ACCESS_CHANGES,
    APP_POLICY_KINDS,
    ASSIGNMENT_KINDS,
    GRANT_KINDS,
    ROLE_KINDS,
    AccessChange,
    AppPolicyChange,
    AssignmentChange,
    Change,
    ChangeKind,
    GrantChange,
    RoleChange,
)
from reconciler.plan.data_security import control_label, describe
from reconciler.plan.plan import Plan, PlannedSpace
from reconciler.report.escape import data
from reconciler.report.group import group_findings, group_notes, listed

ACCESS_KINDS = ASSIGNMENT_KINDS + GRANT_KINDS  # in the order reports count them

# Membership by identity: enum members hash in Python code, which shows at 100,000 changes.
_ACCESS = frozenset(map(id, ACCESS_KINDS))
_REMOVES = frozenset(map(id, (ChangeKind.UNASSIGN, ChangeKind.REVOKE, ChangeKind.DELETE_ROLE)))
_SYMBOL = {kind: kind.symbol for kind in ChangeKind}
_REPLACES = ChangeKind.REASSIGN.symbol  # an assignment replacing individual permissions is a change
_TABLE_ORDER = ACCESS_KINDS + ROLE_KINDS + APP_POLICY_KINDS
TABLE_LABELS = {
    ChangeKind.ASSIGN: "Assign a role", ChangeKind.REASSIGN: "Change a role",
    ChangeKind.UNASSIGN: "Remove a role", ChangeKind.GRANT: "Grant a permission",
    ChangeKind.REVOKE: "Revoke a permission", ChangeKind.CREATE_ROLE: "Create a custom role",
    ChangeKind.UPDATE_ROLE: "Update a custom role", ChangeKind.DELETE_ROLE: "Delete a custom role",
    ChangeKind.CREATE_APP_POLICY: "Create a data security policy",
    ChangeKind.UPDATE_APP_POLICY: "Update a data security policy",
    ChangeKind.DELETE_APP_POLICY: "Delete a data security policy",
}


class ChangeLine(NamedTuple):
    """One change: ``symbol subject detail`` plus where it was declared and why."""

    symbol: str
    subject: str  # principal, role name or data security control (``export (CONTAINER)``)
    detail: str  # "Viewer", "Viewer -> Manager", "read/space", ...
    source: str  # "policies/spaces/ENG.yaml:7" or ""
    reason: str
    space: str


class Lines(Sequence[ChangeLine]):
    """The report lines of some changes, built when first read: the Markdown comment reads only as many
    as its budget holds, so 200,000 changes do not build 200,000 lines for a 65,535-character page."""

    __slots__ = ("_changes", "_lines")

    def __init__(self, changes: Sequence[Change]) -> None:
        self._changes = changes
        self._lines: tuple[ChangeLine, ...] | None = None

    def __len__(self) -> int:
        return len(self._changes)

    @overload
    def __getitem__(self, index: int) -> ChangeLine: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ChangeLine]: ...
    def __getitem__(self, index: int | slice) -> ChangeLine | Sequence[ChangeLine]:
        if isinstance(index, slice):
            return self._all()[index] if self._lines is not None else Lines(self._changes[index])
        return self._lines[index] if self._lines is not None else _line(self._changes[index])

    def __iter__(self) -> Iterator[ChangeLine]:
        if self._lines is not None:
            return iter(self._lines)
        return map(_line, self._changes)  # a partial read (the Markdown budget) keeps nothing

    def _all(self) -> tuple[ChangeLine, ...]:
        if self._lines is None:
            self._lines = tuple(map(_line, self._changes))
        return self._lines

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lines):
            return self._all() == other._all()
        return isinstance(other, tuple) and self._all() == other

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


@dataclass(frozen=True, slots=True)
class PlanSpaceView:
    key: str
    authority: str
    declared_at: str
    defaults: str  # "admins-everywhere, staff-can-read" or ""
    counts: str  # "2 to assign, 1 to remove"
    lines: Sequence[ChangeLine]  # Lines: built when first read


@dataclass(frozen=True, slots=True)
class PlanView:
    summary: str
    removes: str  # "Removes access: 3 role assignments in 2 spaces, ..." or "Nothing will be removed."
    site: str
    mode: str
    policy_digest: str
    fingerprint: str
    scope: str
    in_scope: int
    findings: tuple[str, ...]  # grouped by check (report/group.py)
    table: tuple[tuple[str, str, int], ...]  # (symbol, label, count)
    roles: Sequence[ChangeLine]
    apps: Sequence[ChangeLine]
    removals: Sequence[ChangeLine]
    spaces: tuple[PlanSpaceView, ...]
    quiet: str  # spaces in scope without changes, "DOCS, PUBLIC" (shortened when long)
    quiet_count: int
    held: tuple[ChangeLine, ...]
    notes: tuple[str, ...]  # grouped (report/group.py)


def summary_line(plan: Plan) -> str:
    touched = len({c.space for c in plan.changes if isinstance(c, ACCESS_CHANGES)})
    loosening = sum(1 for c in plan.changes if isinstance(c, AppPolicyChange) and c.loosens)
    return _summary(plan, plan.counts, touched, loosening)


def _summary(plan: Plan, counts: Counter[ChangeKind], touched: int, loosening: int) -> str:
    """``touched``: spaces with an access change; ``loosening``: data security changes loosening a control."""
    if not plan.changes:
        verb = "matches" if len(plan.spaces) == 1 else "match"
        return f"No changes: the {_n(len(plan.spaces), 'space')} in scope {verb} the policy."
    access = [f"{counts[ChangeKind.ASSIGN]} to assign", f"{counts[ChangeKind.REASSIGN]} to change",
              f"{counts[ChangeKind.UNASSIGN]} to remove"]
    access += [f"{counts[k]} {k.noun}" for k in (ChangeKind.GRANT, ChangeKind.REVOKE) if counts[k]]
    parts = [f"{', '.join(access)} in {_n(touched, 'space')}"]
    for kind, verb in ((ChangeKind.CREATE_ROLE, "create"), (ChangeKind.UPDATE_ROLE, "update"),
                       (ChangeKind.DELETE_ROLE, "delete")):
        if counts[kind]:
            parts.append(f"{_n(counts[kind], 'custom role')} to {verb}")
    for kind, verb in ((ChangeKind.CREATE_APP_POLICY, "create"), (ChangeKind.UPDATE_APP_POLICY, "update"),
                       (ChangeKind.DELETE_APP_POLICY, "delete")):
        if counts[kind]:
            parts.append(f"{_n(counts[kind], 'data security policy', 'data security policies')} to {verb}")
    if loosening:
        what = _n(loosening, "data security change loosens", "data security changes loosen")
        parts.append(f"{what} a control")
    return "Plan: " + "; ".join(parts)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def build_view(plan: Plan, *, quiet_limit: int = 20) -> PlanView:
    walk = _Walk.of(plan)
    by_space = {key: changes for key, changes in walk.by_space.items() if key}
    spaces = tuple(_space_view(s, by_space[s.key]) for s in plan.spaces if s.key in by_space)
    quiet = [data(s.key) for s in plan.spaces if s.key not in by_space]
    more = len(quiet) - quiet_limit
    shown = ", ".join(quiet[:quiet_limit]) + (f" and {more} more" if more > 0 else "")
    counts = plan.counts
    removals = sorted(walk.removals, key=_removal_order)
    return PlanView(
        summary=_summary(plan, counts, len(walk.by_space), sum(1 for c in walk.apps if c.loosens)),
        removes=removal_line(removals),
        site=data(plan.site),
        mode=data(plan.mode),
        policy_digest=_short(plan.policy_digest),
        fingerprint=_short(plan.fingerprint),
        scope=data(listed(plan.scope)),  # a --changed-since scope can be thousands of keys
        in_scope=len(plan.spaces),
        findings=tuple(map(data, group_findings(plan.findings))),
        table=tuple((k.symbol, TABLE_LABELS[k], counts[k]) for k in _TABLE_ORDER if counts[k]),
        roles=Lines(walk.roles),
        apps=Lines(walk.apps),
        removals=Lines(removals),
        spaces=spaces,
        quiet=shown,
        quiet_count=len(quiet),
        held=tuple(_line(c) for c in plan.held),
        notes=tuple(map(data, group_notes(plan.notes))),
    )


@dataclass(frozen=True, slots=True)
class _Walk:
    """The plan's changes sorted out in one pass (a report of 200,000 changes walked them six times)."""

    by_space: dict[str, list[AccessChange]]  # access changes by space, in plan order
    removals: list[Change]  # what takes access away (``_removes``), in plan order
    roles: list[RoleChange]
    apps: list[AppPolicyChange]

    @classmethod
    def of(cls, plan: Plan) -> _Walk:
        access: list[AccessChange] = []
        walk = cls({}, [], [], [])
        for kind, run in groupby(plan.changes, _KIND):  # ordered by kind: a run per kind, handled whole
            changes = list(run)
            if kind in ACCESS_KINDS:
                access += [c for c in changes if isinstance(c, ACCESS_CHANGES)]  # all of them
            elif kind in ROLE_KINDS:
                walk.roles.extend(c for c in changes if isinstance(c, RoleChange))
            else:
                walk.apps.extend(c for c in changes if isinstance(c, AppPolicyChange))
            if id(kind) in _REMOVES:
                walk.removals.extend(changes)
            elif kind is ChangeKind.ASSIGN or kind in APP_POLICY_KINDS:  # some of them: ``_removes``
                walk.removals.extend(c for c in changes if _removes(c))
        for key, run in groupby(access, _SPACE):  # ordered by kind, then space: runs of a space
            walk.by_space.setdefault(key, []).extend(run)
        return walk


_SPACE = attrgetter("space")
_KIND = attrgetter("kind")


def removal_line(removals: Sequence[Change]) -> str:
    """What the plan takes away, counted by kind: the Markdown comment says it in its first lines."""
    if not removals:
        return "Nothing will be removed."
    counts = Counter(_REMOVAL_NOUNS.get(c.kind, _LOOSENS) for c in removals)
    order = [*dict.fromkeys(_REMOVAL_NOUNS.values()), _LOOSENS]
    parts = [f"{counts[noun]} {noun if counts[noun] != 1 else _ONE[noun]}" for noun in order if counts[noun]]
    spaces = len({c.space for c in removals if isinstance(c, ACCESS_CHANGES)})
    where = f" in {_n(spaces, 'space')}" if spaces else ""
    return f"Removes access: {', '.join(parts)}{where}; listed first below."


_REMOVAL_NOUNS = {
    ChangeKind.UNASSIGN: "role assignments", ChangeKind.REVOKE: "permissions",
    ChangeKind.ASSIGN: "roles replacing wider individual permissions", ChangeKind.DELETE_ROLE: "custom roles",
}
_LOOSENS = "data security changes loosening a control"
_ONE = {
    "role assignments": "role assignment", "permissions": "permission",
    "roles replacing wider individual permissions": "role replacing wider individual permissions",
    "custom roles": "custom role", _LOOSENS: "data security change loosening a control",
}


def _removal_order(change: Change) -> tuple[int, str]:
    if isinstance(change, ACCESS_CHANGES):
        return 0, change.space
    return (1 if isinstance(change, RoleChange) else 2), ""


def _short(digest: str) -> str:
    algo, sep, value = digest.partition(":")
    return f"{algo}:{value[:12]}" if sep else digest[:12]


def _removes(change: Change) -> bool:
    if id(change.kind) in _REMOVES:
        return True
    if isinstance(change, AssignmentChange):
        return change.loses_access  # a role replacing individual permissions it lacks
    return isinstance(change, AppPolicyChange) and change.loosens


def _space_view(space: PlannedSpace, changes: Sequence[AccessChange]) -> PlanSpaceView:
    by_kind = Counter(map(_KIND, changes))
    counts = {k: by_kind[k] for k in ACCESS_KINDS}
    return PlanSpaceView(
        key=data(space.key),
        authority=space.authority.value,
        declared_at=data(_src(space.declared_at)),
        defaults=data(", ".join(space.defaults)),
        counts=", ".join(f"{counts[k]} {k.noun}" for k in ACCESS_KINDS if counts[k]),
        lines=Lines(changes),
    )


def _src(source: Source | None) -> str:
    return str(source) if source else ""


def _line(change: Change) -> ChangeLine:
    subject, detail = _subject_detail(change)
    source = f"{change.source.file}:{change.source.line}" if change.source else ""
    replaces = isinstance(change, AssignmentChange) and change.replaces is not None
    symbol = _REPLACES if replaces else _SYMBOL[change.kind]
    space = change.space if isinstance(change, ACCESS_CHANGES) else ""
    texts: tuple[str, ...] = (subject, detail, source, change.reason, space)
    joined = "".join(texts)
    if not joined.isprintable() or "::" in joined:  # one C-speed check for the usual, clean line
        texts = tuple(map(data, texts))
    return ChangeLine(symbol, *texts)


def _subject_detail(change: Change) -> tuple[str, str]:
    if isinstance(change, RoleChange):
        return _role_detail(change)
    if isinstance(change, AppPolicyChange):
        return _app_detail(change)
    principal = change.principal
    who = f"{principal.kind.value}:{principal.label or principal.id}"
    if isinstance(change, GrantChange):
        return who, change.permission
    if change.role is None:
        return who, f"{change.old_role} -> none"
    before = change.before
    return who, f"{before} -> {change.role}" if before else change.role


def _role_detail(change: RoleChange) -> tuple[str, str]:
    new, existing = change.new, change.existing
    if new is None:
        return change.name, "custom role"
    if existing is None:
        return new.name, ", ".join(sorted(new.permissions))
    old = existing.definition
    pieces = [f"+{p}" for p in sorted(new.permissions - old.permissions)]
    pieces += [f"-{p}" for p in sorted(old.permissions - new.permissions)]
    if new.description != old.description:
        pieces.append("description")
    return new.name, " ".join(pieces)


def _app_detail(change: AppPolicyChange) -> tuple[str, str]:
    policy = change.policy
    return f"{control_label(policy.rule, policy.subject)} ({policy.coverage})", describe(change)
