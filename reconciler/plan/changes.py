"""The closed set of change kinds, their fixed order, and the plan value objects.

Order (DESIGN.md §5), so that nobody loses access in between: roles created and updated first, then
assignments and grants added and changed, then app policies, then removals, then roles deleted. On legacy
sites ``read/space`` is granted first and revoked last. A reassign is one change, never remove + add.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.model import READ_SPACE, AppPolicy, Authority, Principal, RoleDef, Source

# ``Change.old_role`` of an ASSIGN on a transition site to a principal on individual permissions: the
# role replaces those permissions (``reason`` lists what is lost).
CUSTOM_ACCESS = "custom access"


class ChangeKind(enum.Enum):
    """Each kind: (rank in the fixed order, report symbol, past-tense verb used in summaries)."""

    CREATE_ROLE = (10, "+", "role to create")
    UPDATE_ROLE = (11, "~", "role to update")
    GRANT = (20, "+", "to grant")
    ASSIGN = (21, "+", "to assign")
    REASSIGN = (22, "~", "to change")
    DELETE_APP_POLICY = (30, "-", "app policy to delete")
    CREATE_APP_POLICY = (31, "+", "app policy to create")
    UPDATE_APP_POLICY = (32, "~", "app policy to update")
    UNASSIGN = (40, "-", "to remove")
    REVOKE = (41, "-", "to revoke")
    DELETE_ROLE = (50, "-", "role to delete")

    @property
    def rank(self) -> int:
        return self.value[0]

    @property
    def symbol(self) -> str:
        return self.value[1]

    @property
    def noun(self) -> str:
        return self.value[2]

    @property
    def removes_access(self) -> bool:
        """Kinds that take access away (or loosen an app block), listed first in PR comments."""
        return self in {ChangeKind.UNASSIGN, ChangeKind.REVOKE, ChangeKind.DELETE_ROLE,
                        ChangeKind.DELETE_APP_POLICY}


# Kinds by what they touch. Tuples, not sets: ``in`` on a tuple compares enum members by identity first,
# whereas a set hashes them through ``Enum.__hash__``, a Python function (it shows at 100,000 changes).
ROLE_KINDS = (ChangeKind.CREATE_ROLE, ChangeKind.UPDATE_ROLE, ChangeKind.DELETE_ROLE)
APP_POLICY_KINDS = (ChangeKind.CREATE_APP_POLICY, ChangeKind.UPDATE_APP_POLICY, ChangeKind.DELETE_APP_POLICY)
ASSIGNMENT_KINDS = (ChangeKind.ASSIGN, ChangeKind.REASSIGN, ChangeKind.UNASSIGN)
GRANT_KINDS = (ChangeKind.GRANT, ChangeKind.REVOKE)


@dataclass(frozen=True, slots=True)
class Change:
    """One action. Which fields are set depends on the kind:

    - role kinds: ``role_def`` (desired), ``old_role_def`` (live, for update/delete), ``role_id`` (live id)
    - ASSIGN / REASSIGN / UNASSIGN: ``space``, ``principal``, ``role`` (new, None for UNASSIGN),
      ``old_role`` (live; None for ASSIGN, or ``CUSTOM_ACCESS`` when the role replaces the principal's
      individual permissions on a transition site)
    - GRANT / REVOKE: ``space``, ``principal``, ``permission``; REVOKE also ``permission_id`` (v1 id)
    - app policy kinds: ``app_policy`` (desired), ``old_app_policy`` (live)
    ``source`` is where the desired fact was declared (None for removals of undeclared access);
    ``reason`` explains removals ("not in policy; space is exact", "set to none in policy").
    """

    kind: ChangeKind
    space: str | None = None
    principal: Principal | None = None
    role: str | None = None
    old_role: str | None = None
    permission: str | None = None
    permission_id: int | None = None
    role_def: RoleDef | None = None
    old_role_def: RoleDef | None = None
    role_id: str | None = None
    app_policy: AppPolicy | None = None
    old_app_policy: AppPolicy | None = None
    source: Source | None = None
    reason: str = ""

    @property
    def sort_key(self) -> tuple[int, str, str, int, str]:
        # read/space: granted first, revoked last
        perm_rank = 0
        if self.permission == READ_SPACE:
            perm_rank = 1 if self.kind is ChangeKind.REVOKE else -1
        name = (self.role_def.name if self.role_def else self.old_role_def.name if self.old_role_def else "")
        if self.app_policy or self.old_app_policy:
            name = (self.app_policy or self.old_app_policy).name  # type: ignore[union-attr]
        return (
            self.kind.rank,
            self.space or "",
            self.principal.ref if self.principal else name,
            perm_rank,
            self.permission or "",
        )


def replacement_reason(permissions: Iterable[str], lost: Iterable[str]) -> str:
    """The ``reason`` of an ASSIGN that replaces individual permissions (``old_role == CUSTOM_ACCESS``)."""
    held, gone = ", ".join(sorted(permissions)), ", ".join(sorted(lost))
    if gone:
        return f"replaces individual permissions {held}{_LOSES}{gone}"
    return f"replaces individual permissions {held}; the role includes them all"


def replaces_access(change: Change) -> bool:
    """An ASSIGN on a transition site that replaces the principal's individual permissions."""
    return change.kind is ChangeKind.ASSIGN and change.old_role == CUSTOM_ACCESS


def loses_access(change: Change) -> bool:
    """A replacing ASSIGN whose role lacks some of the individual permissions it replaces."""
    return replaces_access(change) and _LOSES in change.reason


_LOSES = "; loses "


def ordered(changes: list[Change] | tuple[Change, ...]) -> tuple[Change, ...]:
    """Changes in the one fixed order used by plans, reports and apply."""
    return tuple(sorted(changes, key=lambda c: c.sort_key))


class Check(enum.StrEnum):
    REMOVAL_FRACTION = "removal_fraction"
    MIN_ADMINS = "min_admins"
    PROTECTED = "protected"
    ACTOR_ADMIN = "actor_admin"
    GUEST = "guest"
    UNKNOWN_PRINCIPAL = "unknown_principal"  # the policy names a group the site does not have


@dataclass(frozen=True, slots=True)
class SafetyFinding:
    """A failed safety check. Every finding blocks apply unless ``--allow-unsafe`` is given."""

    check: Check
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
    # What the plan did not cover and why ("app access policies not planned: set ATLASSIAN_ADMIN_API_KEY")
    notes: tuple[str, ...] = ()

    @property
    def safe(self) -> bool:
        return not self.findings

    @property
    def counts(self) -> Counter[ChangeKind]:
        return Counter(change.kind for change in self.changes)

    def changes_for(self, space: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.space == space)
