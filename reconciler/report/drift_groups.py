"""The drift issue body's differences grouped by what changed, access gained outside the policy first.

An issue of 200 differences reads as a handful of tables rather than 200 paragraphs: one section per kind
of difference (added on the site, role changed, unknown principal, ... removed), each with one sentence
saying what the kind means and the one remedy that reverts all of it, then a row per difference with the
policy edit that adopts it. Within a section, access above the policy comes first (an Admin above all);
acknowledged differences come after the counted ones. Users are shown with their display name on the
site beside the account (``report.names``).

The body stays under its limit: every section gets its first rows, then the rest of the room goes to the
sections in order; each section says how many rows it left out. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.drift.findings import AckStatus, DriftItem, DriftKind, DriftReport, Remedy
from reconciler.model import ADMIN_ROLE, PrincipalKind
from reconciler.report.escape import code, md_text

# The order of the sections: access gained outside the policy first.
ORDER = (
    DriftKind.ADDED, DriftKind.ROLE_CHANGED, DriftKind.UNKNOWN_PRINCIPAL, DriftKind.CUSTOM_ACCESS,
    DriftKind.REMOVED, DriftKind.SPACE_MISSING, DriftKind.ROLE_DEFINITION, DriftKind.APP_POLICY,
)
TITLES: Mapping[DriftKind, str] = {
    DriftKind.ADDED: "Access added on the site, outside the policy",
    DriftKind.ROLE_CHANGED: "Roles changed on the site",
    DriftKind.UNKNOWN_PRINCIPAL: "Access held by accounts the policy does not know",
    DriftKind.CUSTOM_ACCESS: "Individual permissions (custom access) outside the policy",
    DriftKind.REMOVED: "Access removed on the site, outside the policy",
    DriftKind.SPACE_MISSING: "Policy spaces the site does not show",
    DriftKind.ROLE_DEFINITION: "Custom roles that differ from the policy",
    DriftKind.APP_POLICY: "Data security policies that differ",
}
# What a kind means, said once per section; kinds not listed show each item's own detail instead.
ABOUT: Mapping[DriftKind, str] = {
    DriftKind.ADDED: "Assigned on the site, not in the policy (the space is exact).",
    DriftKind.ROLE_CHANGED: "The site holds another role than the policy says; `A -> B` reads: the policy "
                            "says A, the site has B.",
    DriftKind.UNKNOWN_PRINCIPAL: "Accounts the policy's people do not name.",
    DriftKind.CUSTOM_ACCESS: "Individual permissions without a role, not in the policy.",
    DriftKind.REMOVED: "In the policy, not assigned on the site.",
}
VALUE_HEADER: Mapping[DriftKind, str] = {
    DriftKind.ADDED: "Site has", DriftKind.ROLE_CHANGED: "Policy -> site",
    DriftKind.UNKNOWN_PRINCIPAL: "Site has", DriftKind.CUSTOM_ACCESS: "Site has",
    DriftKind.REMOVED: "Policy says",
}
FIRST_ROWS = 10  # rows every section keeps before the rest of the room is shared out in order
_RANK = {"Viewer": 1, "Collaborator": 2, "Manager": 3, ADMIN_ROLE: 4}  # default roles; custom roles: 0


@dataclass(frozen=True, slots=True)
class GroupView:
    title: str  # "Access added on the site, outside the policy"
    count: int  # differences of this kind (counted or not)
    about: tuple[str, ...]  # sentences said once for the section: meaning, revert, adopt
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    left_out: int


def group_items(report: DriftReport, budget: int) -> tuple[GroupView, ...]:
    """The sections of ``report.items``, whose rows together take at most ``budget`` characters."""
    by_kind: dict[DriftKind, list[DriftItem]] = {}
    for item in report.items:
        by_kind.setdefault(item.kind, []).append(item)
    sections = [_section(kind, sorted(by_kind[kind], key=_order), report.names) for kind in ORDER
                if kind in by_kind]
    sizes = [[len(_row_text(r)) for r in rows] for _, rows in sections]
    counts = _share(sizes, budget)
    return tuple(
        GroupView(head.title, head.count, head.about, head.headers, tuple(rows[:n]), len(rows) - n)
        for (head, rows), n in zip(sections, counts, strict=True)
    )


def _share(sizes: Sequence[Sequence[int]], budget: int) -> list[int]:
    """How many leading rows of each section fit: ``FIRST_ROWS`` each first, then the rest in order."""
    counts = [0] * len(sizes)
    for limit in (FIRST_ROWS, None):
        for index, rows in enumerate(sizes):
            end = len(rows) if limit is None else min(limit, len(rows))
            while counts[index] < end and rows[counts[index]] <= budget:
                budget -= rows[counts[index]]
                counts[index] += 1
    return counts


def _row_text(row: Sequence[str]) -> str:
    return "| " + " | ".join(row) + " |\n"


@dataclass(frozen=True, slots=True)
class _Head:
    title: str
    count: int
    about: tuple[str, ...]
    headers: tuple[str, ...]


def _section(kind: DriftKind, items: Sequence[DriftItem], names: Mapping[str, str]
             ) -> tuple[_Head, list[tuple[str, ...]]]:
    reverts = {_remedy(i.revert) for i in items}
    one_revert = len(reverts) == 1 and None not in {i.revert for i in items}
    about = [ABOUT[kind]] if kind in ABOUT else []
    if one_revert:
        about.append(f"**Revert** {'it' if len(items) == 1 else f'all {len(items)}'}: {reverts.pop()}.")
    headers: list[str] = ["Space"]
    columns: list[Callable[[DriftItem], str]] = [lambda i: _code(i.space or "site")]
    if any(i.who for i in items):
        headers.append("Name" if kind in (DriftKind.ROLE_DEFINITION, DriftKind.APP_POLICY) else "Principal")
        columns.append(lambda i: _who(i, names))
    if kind in VALUE_HEADER:
        headers.append(VALUE_HEADER[kind])
        columns.append(_value)
    else:
        headers.append("What differs")
        columns.append(lambda i: _cell(i.detail) + (f" ({_code(str(i.source))})" if i.source else ""))
    headers.append("Adopt")
    columns.append(lambda i: _remedy(i.adopt))
    if not one_revert:
        headers.append("Revert")
        columns.append(lambda i: _remedy(i.revert))
    rows = [tuple(column(i) for column in columns) for i in items]
    return _Head(TITLES[kind], len(items), tuple(about), tuple(headers)), rows


def _order(item: DriftItem) -> tuple[bool, bool, int, str, str]:
    """Counted differences before acknowledged ones; Admin on the site first, then access further above
    the policy's; then by space and principal."""
    live, desired = _RANK.get(item.live or "", 0), _RANK.get(item.desired or "", 0)
    gained = live - desired if item.kind is not DriftKind.REMOVED else desired
    return (not item.counts, item.live != ADMIN_ROLE, -gained, item.space, item.who)


def _who(item: DriftItem, names: Mapping[str, str]) -> str:
    text = _code(item.who or "space")
    principal = item.principal
    if principal is not None and principal.kind is PrincipalKind.USER:
        name = names.get(principal.id)
        if name:
            text += f" ({_cell(name)})"
    if item.ack is not None:
        verb = ("acknowledged until" if item.ack.status is AckStatus.ACKNOWLEDGED
                else "acknowledgement expired on")
        source = _cell(str(item.ack.source))
        text += f" _{verb} {item.ack.until.isoformat()}: {_cell(item.ack.reason)} ({source})_"
    return text


def _value(item: DriftItem) -> str:
    both = item.desired and item.live
    text = _cell(f"{item.desired} -> {item.live}" if both else item.live or item.desired or "")
    return f"**{text}**" if item.live == ADMIN_ROLE else text


def _remedy(remedy: Remedy | None) -> str:
    if remedy is None:
        return ""
    if remedy.command:
        return _code(remedy.command)
    where = f"in {_code(remedy.file)}, " if remedy.file else ""
    edit = ": " + " and ".join(map(_code, remedy.yaml.splitlines())) if remedy.yaml else ""
    return f"{where}{_cell(remedy.action)}{edit}"


_cell = md_text  # text from the site is data (report/escape.py)


_code = code
