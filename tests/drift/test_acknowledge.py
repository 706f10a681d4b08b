"""drift.ignore: acknowledged items are shown but not counted; expired ones count again and are flagged."""

from __future__ import annotations

from datetime import date

import pytest

from reconciler.drift.classify import detect_drift
from reconciler.drift.findings import AckStatus

from .builders import desired, live, space

TODAY = date(2026, 11, 23)
SITE = live({"ENG": {"group:engineering": "Collaborator", "group:contractors": "Viewer"}})


def policy(*ignore: tuple[str, str, date]) -> object:
    return desired(space("ENG", {"group:engineering": "Collaborator"}), ignore=ignore)


@pytest.mark.parametrize(
    ("until", "status", "counts"),
    [
        (date(2027, 1, 31), AckStatus.ACKNOWLEDGED, False),
        (TODAY, AckStatus.ACKNOWLEDGED, False),
        (date(2026, 11, 22), AckStatus.EXPIRED, True),
    ],
    ids=["acknowledged until a later date", "acknowledged through its last day", "expired yesterday"],
)
def test_acknowledgement_until_its_date(until: date, status: AckStatus, counts: bool) -> None:
    report = detect_drift(policy(("ENG", "group:contractors", until)), SITE, today=TODAY)  # type: ignore[arg-type]
    (item,) = report.items
    assert item.ack is not None
    assert (item.ack.status, item.ack.until, item.ack.reason) == (status, until, "migration")
    assert str(item.ack.source) == "policies/drift.yaml:4"
    assert item.counts is counts
    assert report.has_drift is counts
    assert len(report.expired) == (1 if counts else 0)


def test_acknowledgement_of_another_space_or_principal_does_not_match() -> None:
    ignores = (("OPS", "group:contractors", date(2027, 1, 1)), ("ENG", "group:temps", date(2027, 1, 1)))
    report = detect_drift(policy(*ignores), SITE, today=TODAY)  # type: ignore[arg-type]
    assert report.items[0].ack is None
    assert report.has_drift
    assert [(u.space, u.principal.ref) for u in report.unused_acknowledgements] == [
        ("ENG", "group:temps"), ("OPS", "group:contractors"),
    ]


def test_the_longest_of_two_matching_acknowledgements_wins() -> None:
    ignores = (("ENG", "group:contractors", date(2026, 1, 1)), ("ENG", "group:contractors", date(2027, 1, 1)))
    report = detect_drift(policy(*ignores), SITE, today=TODAY)  # type: ignore[arg-type]
    assert report.items[0].ack is not None
    assert report.items[0].ack.until == date(2027, 1, 1)
    assert report.unused_acknowledgements == ()
