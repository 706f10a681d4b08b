"""The drift report in text, Markdown (a GitHub issue body) or JSON.

Text and Markdown lay out a view model built here (the templates hold no logic); JSON comes from the
report's dataclasses (:func:`report_to_dict`). The Markdown stays under GitHub's 65,535-character limit
for an issue body: when the full list would not fit, later items are left out and the report says how
many (the JSON has them all).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from reconciler.drift.findings import AckStatus, DriftItem, DriftKind, DriftReport, Remedy
from reconciler.drift.guest_reach import GuestReach
from reconciler.drift.migrate import MigrationPlan, ProposalKind
from reconciler.errors import UsageError
from reconciler.model import Principal, Source
from reconciler.report.drift_groups import group_items
from reconciler.report.environment import template
from reconciler.report.escape import data, md_code, md_fenced, md_text

FORMATS = ("text", "markdown", "json")
MARKDOWN_LIMIT = 60_000  # GitHub allows 65,535 characters; leave room for a workflow's own lines
FORMAT_VERSION = 1
SYMBOLS: Mapping[DriftKind, str] = {
    DriftKind.ADDED: "+", DriftKind.REMOVED: "-", DriftKind.ROLE_CHANGED: "~",
    DriftKind.UNKNOWN_PRINCIPAL: "?", DriftKind.CUSTOM_ACCESS: "*", DriftKind.SPACE_MISSING: "!",
    DriftKind.ROLE_DEFINITION: "~", DriftKind.APP_POLICY: "~",
}


@dataclasses.dataclass(frozen=True, slots=True)
class ItemView:
    symbol: str
    who: str
    value: str  # "Viewer", "Collaborator -> Admin" (policy -> site), or ""
    label: str
    detail: str
    source: str
    ack: str  # "", "acknowledged until ...", "acknowledgement expired on ..."
    adopt: RemedyView | None
    revert: RemedyView | None


@dataclasses.dataclass(frozen=True, slots=True)
class RemedyView:
    action: str
    file: str
    yaml: str
    command: str

    @property
    def text(self) -> str:
        """One line for the text report."""
        if self.command:
            return self.command
        where = f"{self.file}: {self.action}" if self.file else self.action
        return f"{where}: {self.yaml}" if self.yaml else where


@dataclasses.dataclass(frozen=True, slots=True)
class DriftSpaceView:
    title: str
    items: tuple[ItemView, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ProposalView:
    space: str
    who: str
    holds: str
    role: str
    how: str


@dataclasses.dataclass(frozen=True, slots=True)
class MigrationView:
    proposals: tuple[ProposalView, ...]
    new_roles: tuple[tuple[str, str, int], ...]  # name, permissions, holders
    left_out: tuple[str, ...]
    limit_note: str


@dataclasses.dataclass(frozen=True, slots=True)
class DriftView:
    headline: str
    site: str
    mode: str
    today: str
    managed: str  # "3 managed spaces"
    unmanaged: str
    policy_dir: str
    counts: tuple[tuple[str, int], ...]  # label -> number, counted items only
    acknowledged: int
    expired: int
    spaces: tuple[DriftSpaceView, ...]
    left_out: int
    unused_acks: tuple[str, ...]
    migration: MigrationView | None
    guest_reach: tuple[str, ...]
    notes: tuple[str, ...]


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report_to_dict(report), indent=2, sort_keys=False) + "\n"
    if fmt == "text":
        return template("drift.txt.j2").render(v=build_view(report))
    if fmt == "markdown":
        return render_markdown(report)
    raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def render_markdown(report: DriftReport, limit: int = MARKDOWN_LIMIT) -> str:
    """The issue body: differences grouped by kind (``drift_groups``), under ``limit`` characters."""
    page = template("drift.md.j2")
    view = _markdown(build_view(report, max_items=0))
    # every row left out bounds the rest of the page: kept rows only shorten the left-out lines
    fixed = len(page.render(v=view, groups=group_items(report, 0)))
    return page.render(v=view, groups=group_items(report, limit - 1 - fixed))


def _markdown(view: DriftView) -> DriftView:
    """The view's own fields as the Markdown page shows them (the rows are made in ``drift_groups``)."""
    migration = view.migration
    if migration is not None:
        migration = dataclasses.replace(
            migration,
            proposals=tuple(ProposalView(md_text(p.space), md_code(p.who), md_text(p.holds), md_text(p.role),
                                         md_text(p.how)) for p in migration.proposals),
            new_roles=tuple((md_text(n), md_code(p), h) for n, p, h in migration.new_roles),
            limit_note=md_text(migration.limit_note),
        )
    return dataclasses.replace(
        view, site=md_code(view.site), policy_dir=md_code(view.policy_dir),
        notes=tuple(map(md_text, view.notes)), unused_acks=tuple(map(md_text, view.unused_acks)),
        guest_reach=tuple(md_fenced(line) for line in view.guest_reach), migration=migration,
    )


def build_view(report: DriftReport, *, max_items: int | None = None) -> DriftView:
    items = report.items if max_items is None else report.items[:max_items]
    spaces: dict[str, list[ItemView]] = {}
    for item in items:
        spaces.setdefault(item.space, []).append(_item_view(item))
    counts = Counter(item.kind for item in report.drift)
    return DriftView(
        headline=headline(report),
        site=data(report.site),
        mode=data(report.mode),
        today=report.today.isoformat(),
        managed=_n(len(report.managed), "managed space"),
        unmanaged=f"{len(report.unmanaged)} unmanaged",
        policy_dir=data(report.policy_dir),
        counts=tuple((kind.label, counts[kind]) for kind in DriftKind if counts[kind]),
        acknowledged=len(report.acknowledged),
        expired=len(report.expired),
        spaces=tuple(DriftSpaceView(data(key) or "Site-wide", tuple(views)) for key, views in spaces.items()),
        left_out=len(report.items) - len(items),
        unused_acks=tuple(data(f"{u.space} {u.principal} (until {u.until.isoformat()}, {u.source})")
                          for u in report.unused_acknowledgements),
        migration=_migration_view(report.migration),
        guest_reach=tuple(map(data, _guest_lines(report.guest_reach))),
        notes=tuple(map(data, report.notes)),
    )


def headline(report: DriftReport) -> str:
    drift = report.drift
    if not drift:
        managed = len(report.managed)
        text = f"No drift: {_n(managed, 'managed space')} match{'es' if managed == 1 else ''} the policy"
    else:
        spaces = len({i.space for i in drift})
        counts = Counter(i.kind for i in drift)
        parts = ", ".join(f"{counts[k]} {k.label}" for k in DriftKind if counts[k])
        text = (f"Drift: {_n(len(drift), 'difference')} in {_n(spaces, 'place')} ({parts})")
    extras = []
    if report.acknowledged:
        extras.append(f"{len(report.acknowledged)} acknowledged")
    if report.expired:
        extras.append(f"{_n(len(report.expired), 'expired acknowledgement')}")
    extras.append(f"{_n(len(report.unmanaged), 'unmanaged space')}")
    return f"{text}; {'; '.join(extras)}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _item_view(item: DriftItem) -> ItemView:
    if item.desired and item.live:
        value = f"{item.desired} -> {item.live}"
    else:
        value = item.live or item.desired or ""
    ack = ""
    if item.ack is not None:
        verb = ("acknowledged until" if item.ack.status is AckStatus.ACKNOWLEDGED
                else "acknowledgement expired on")
        ack = f"{verb} {item.ack.until.isoformat()}: {item.ack.reason} ({item.ack.source})"
    return ItemView(
        symbol=SYMBOLS[item.kind],
        who=data(item.who or "space"),
        value=data(value),
        label=item.kind.label,
        detail=data(item.detail),
        source=data(str(item.source)) if item.source else "",
        ack=data(ack),
        adopt=_remedy_view(item.adopt),
        revert=_remedy_view(item.revert),
    )


def _remedy_view(remedy: Remedy | None) -> RemedyView | None:
    if remedy is None:
        return None
    lines = "; ".join((remedy.yaml or "").splitlines())  # one line: "permissions: [..]; description: .."
    return RemedyView(data(remedy.action), data(remedy.file or ""), data(lines), data(remedy.command or ""))


def _migration_view(plan: MigrationPlan | None) -> MigrationView | None:
    if plan is None:
        return None
    proposals = []
    for p in plan.proposals:
        if p.kind is ProposalKind.EXACT:
            how = "exact match"
        elif p.kind is ProposalKind.NEW_ROLE:
            how = "new custom role"
        else:
            parts = [f"gains {', '.join(p.gained)}" if p.gained else "",
                     f"loses {', '.join(p.lost)}" if p.lost else ""]
            how = "nearest: " + "; ".join(x for x in parts if x)
        proposals.append(ProposalView(data(p.space), data(str(p.principal)), data(", ".join(p.permissions)),
                                      data(p.role), data(how)))
    note = ""
    if plan.left_out:
        note = (f"The custom role limit ({plan.custom_role_limit}, {plan.existing_custom} in use) leaves "
                f"{_n(len(plan.left_out), 'shared permission set')} without a new role.")
    return MigrationView(
        proposals=tuple(proposals),
        new_roles=tuple((data(r.name), data(", ".join(r.permissions)), r.holders) for r in plan.new_roles),
        left_out=tuple(", ".join(perms) for perms in plan.left_out),
        limit_note=note,
    )


def _guest_lines(section: tuple[GuestReach, ...] | None) -> tuple[str, ...]:
    return tuple(line for entry in section or () for line in entry.lines())


def _guest_json(section: tuple[GuestReach, ...] | None) -> list[Any] | None:
    return None if section is None else [entry.to_json() for entry in section]


# ------------------------------------------------------------------------------------------------ JSON


def report_to_dict(report: DriftReport) -> dict[str, Any]:
    counts = Counter(item.kind.slug for item in report.drift)
    return {
        "format_version": FORMAT_VERSION,
        "site": report.site,
        "mode": report.mode,
        "today": report.today.isoformat(),
        "policy_dir": report.policy_dir,
        "drift": report.has_drift,
        "summary": {
            "differences": len(report.drift),
            "by_kind": {kind.slug: counts[kind.slug] for kind in DriftKind if counts[kind.slug]},
            "acknowledged": len(report.acknowledged),
            "expired": len(report.expired),
            "managed_spaces": len(report.managed),
            "unmanaged_spaces": len(report.unmanaged),
        },
        "items": [_item_dict(item) for item in report.items],
        "managed": list(report.managed),
        "unmanaged": [_plain(info) for info in report.unmanaged],
        "unused_acknowledgements": [_plain(u) for u in report.unused_acknowledgements],
        "migration": _plain(report.migration),
        "guest_reach": _guest_json(report.guest_reach),
        "notes": list(report.notes),
        "names": dict(sorted(report.names.items())),
    }


def _item_dict(item: DriftItem) -> dict[str, Any]:
    data = {field.name: _plain(getattr(item, field.name)) for field in dataclasses.fields(item)}
    data["kind"] = item.kind.slug
    data["label"] = item.kind.label
    data["who"] = item.who
    data["counts"] = item.counts
    return data


def _plain(value: Any) -> Any:
    """Dataclasses, enums, dates, principals and sources as JSON values (sets sorted)."""
    if isinstance(value, Principal | Source):
        return _scalar(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, str) else value.name.lower()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Principal):
        return value.ref
    if isinstance(value, Source):
        return str(value)
    return str(value)
