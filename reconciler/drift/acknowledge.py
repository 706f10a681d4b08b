"""``drift.ignore``: acknowledged differences, each with a reason and an expiry date.

An entry matches every item of its space and principal (whatever the kind). It acknowledges them through
its ``until`` date inclusive; from the day after, the items count as drift again and are flagged as
expired. When several entries match, the one that lasts longest wins. Entries that match nothing are
returned as unused, so a report can say the acknowledgement can be deleted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date

from reconciler.drift.findings import Acknowledgement, AckStatus, DriftItem, UnusedAcknowledgement
from reconciler.model import DriftIgnore


def acknowledge(
    items: Iterable[DriftItem], ignores: Sequence[DriftIgnore], today: date
) -> tuple[list[DriftItem], tuple[UnusedAcknowledgement, ...]]:
    """Attach the matching ``drift.ignore`` entry to each item; return the items and the unused entries."""
    by_target: dict[tuple[str, str], DriftIgnore] = {}
    for ignore in ignores:
        target = (ignore.space, ignore.principal.ref)
        if target not in by_target or ignore.until > by_target[target].until:
            by_target[target] = ignore
    used: set[tuple[str, str]] = set()
    result = []
    for item in items:
        entry: DriftIgnore | None = None
        if item.principal is not None:
            entry = by_target.get((item.space, item.principal.ref))
        if entry is None:
            result.append(item)
            continue
        used.add((entry.space, entry.principal.ref))
        status = AckStatus.ACKNOWLEDGED if today <= entry.until else AckStatus.EXPIRED
        ack = Acknowledgement(status, entry.reason, entry.until, entry.source)
        result.append(dataclasses.replace(item, ack=ack))
    unused = tuple(
        UnusedAcknowledgement(e.space, e.principal, e.until, e.source)
        for target, e in sorted(by_target.items())
        if target not in used
    )
    return result, unused
