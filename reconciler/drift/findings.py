"""The drift report's value objects: what differs, how it is classified, and how to adopt or revert it.

A **drift item** is one difference between the policy (desired) and the site (live) in one space, of one
:class:`DriftKind`. Items matched by a ``drift.ignore`` entry carry an :class:`Acknowledgement`; an
acknowledged item does not count as drift until its ``until`` date has passed, after which it counts again
and is flagged as expired.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from reconciler.drift.guest_reach import GuestReach
from reconciler.drift.migrate import MigrationPlan
from reconciler.live_state import SpaceInfo
from reconciler.model import Principal, Source


class DriftKind(enum.Enum):
    """Each kind: (rank in reports, short label used in summaries)."""

    ADDED = (10, "added outside the policy")
    REMOVED = (20, "removed outside the policy")
    ROLE_CHANGED = (30, "role changed")
    UNKNOWN_PRINCIPAL = (40, "unknown principal")
    CUSTOM_ACCESS = (50, "custom access")
    SPACE_MISSING = (60, "policy space not visible")
    ROLE_DEFINITION = (70, "custom role differs")
    APP_POLICY = (80, "data security policy differs")

    @property
    def rank(self) -> int:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @property
    def slug(self) -> str:
        return self.name.lower()


class AckStatus(enum.StrEnum):
    ACKNOWLEDGED = "acknowledged"  # until >= today: shown, not counted
    EXPIRED = "expired"  # until < today: counted again, flagged


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The ``drift.ignore`` entry that matched an item."""

    status: AckStatus
    reason: str
    until: date
    source: Source


@dataclass(frozen=True, slots=True)
class Remedy:
    """One way to resolve an item: a policy edit (``file`` + ``yaml`` under ``where``) or a ``command``.

    ``action`` is the sentence a reader follows: "add under spaces.ENG.assign", "run".
    """

    action: str
    file: str | None = None
    where: str | None = None  # dotted location in the file, e.g. "spaces.ENG.assign"
    yaml: str | None = None  # the exact line(s) to write, without indentation (newline-separated)
    command: str | None = None


@dataclass(frozen=True, slots=True)
class DriftItem:
    """One difference in one space.

    ``desired`` / ``live``: the role name (or a comma-separated permission list for grants) on each side,
    ``None`` when absent. ``source``: where the desired fact was declared, when there is one.
    """

    kind: DriftKind
    space: str
    principal: Principal | None
    desired: str | None
    live: str | None
    detail: str
    adopt: Remedy | None
    revert: Remedy | None
    source: Source | None = None
    ack: Acknowledgement | None = None
    subject: str = ""  # what a site-wide item is about: a custom role or app access policy name
    informational: bool = False  # shown, never counted (e.g. an app policy the tool does not own)

    @property
    def counts(self) -> bool:
        """Whether this item is drift (not acknowledged, or acknowledged and expired)."""
        if self.informational:
            return False
        return self.ack is None or self.ack.status is AckStatus.EXPIRED

    @property
    def who(self) -> str:
        """The principal as reports show it, or the subject of a site-wide item."""
        return str(self.principal) if self.principal is not None else self.subject

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (self.space, self.kind.rank, self.principal.ref if self.principal else "")


@dataclass(frozen=True, slots=True)
class UnusedAcknowledgement:
    """A ``drift.ignore`` entry that matched no difference (the drift it covered is gone)."""

    space: str
    principal: Principal
    until: date
    source: Source


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Everything ``reconciler drift`` found. ``migration`` and ``guest_reach`` are optional sections."""

    site: str
    mode: str
    today: date
    policy_dir: str
    managed: tuple[str, ...]  # managed space keys that were compared, sorted
    items: tuple[DriftItem, ...]  # sorted by space, kind, principal
    unmanaged: tuple[SpaceInfo, ...] = ()
    unused_acknowledgements: tuple[UnusedAcknowledgement, ...] = ()
    migration: MigrationPlan | None = None  # proposals for principals on custom access
    guest_reach: tuple[GuestReach, ...] | None = None  # None: not computed (pure classification)
    notes: tuple[str, ...] = ()  # what was not checked, and why
    # account id -> display name on the site, for the users in ``items`` (reports show it beside the id)
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def drift(self) -> tuple[DriftItem, ...]:
        return tuple(item for item in self.items if item.counts)

    @property
    def acknowledged(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.ack is not None and i.ack.status is AckStatus.ACKNOWLEDGED)

    @property
    def expired(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.ack is not None and i.ack.status is AckStatus.EXPIRED)

    @property
    def has_drift(self) -> bool:
        return any(item.counts for item in self.items)
