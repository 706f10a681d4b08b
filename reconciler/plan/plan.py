"""The plan value: ordered changes plus what they were computed from, the safety findings and the notes.

Built once, complete (``reconciler.plan.diff.build_plan``); serialised by ``reconciler.plan.planfile``.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter

from reconciler.model import Authority, Source
from reconciler.plan.changes import Change, ChangeKind


class SafetyCheck(enum.StrEnum):
    REMOVAL_FRACTION = "removal_fraction"
    MIN_ADMINS = "min_admins"
    PROTECTED = "protected"
    ACTOR_ADMIN = "actor_admin"
    GUEST = "guest"
    UNKNOWN_PRINCIPAL = "unknown_principal"  # the policy names a group the site does not have
    UNKNOWN_ACCOUNT = "unknown_account"  # the policy names an account id the site does not have
    PROTECTED_MISSING = "protected_missing"  # a safety.protected principal the site does not have
    UNKNOWN_PERMISSION = "unknown_permission"  # a role's permission id not in the site's catalogue
    GRANT_NOT_HELD = "grant_not_held"  # roles-only: the tool's account would grant what it does not hold


@dataclass(frozen=True, slots=True)
class SafetyFinding:
    """A failed safety check. Every finding blocks apply unless ``--allow-unsafe`` is given."""

    check: SafetyCheck
    message: str
    space: str | None = None

    OVERRIDE = "--allow-unsafe"


@dataclass(frozen=True, slots=True)
class PlannedSpace:
    """A space in the plan's scope, with the authority that decided what may be removed."""

    key: str
    id: str
    authority: Authority
    declared_at: Source | None  # the spaces: entry, or None when only defaults match it
    defaults: tuple[str, ...] = ()  # names of the defaults rules that matched it


@dataclass(frozen=True, slots=True)
class Plan:
    """Ordered changes plus what they were computed from. Serialised by ``plan/planfile.py``."""

    site: str
    mode: str
    policy_digest: str
    fingerprint: str
    spaces: tuple[PlannedSpace, ...]
    changes: tuple[Change, ...]
    findings: tuple[SafetyFinding, ...] = ()
    live_assignments: int = 0  # live assignments + grants in scope, the removal fraction's denominator
    scope: tuple[str, ...] = field(default=())  # --space filter, empty = whole policy
    # Changes the policy asked for but the plan withheld because they would remove or downgrade a
    # protected principal or the actor; each ``reason`` says why. Shown in reports, never applied.
    held: tuple[Change, ...] = ()
    # What the plan did not cover and why ("data security not planned: set ATLASSIAN_ADMIN_API_KEY ...")
    notes: tuple[str, ...] = ()
    # where the policy directory was, relative to its git repository's root (else the current directory),
    # so `reconciler apply plan.json` finds it from another folder; "" when not recorded (older files)
    policy_dir: str = ""

    @property
    def safe(self) -> bool:
        return not self.findings

    @property
    def counts(self) -> Counter[ChangeKind]:
        return Counter(map(_KIND, self.changes))  # C all the way: ChangeKind hashes in C


_KIND = attrgetter("kind")
