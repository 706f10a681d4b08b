"""The closed set of change kinds, their fixed order, and one typed change per family.

Order (DESIGN.md §5), so that nobody loses access in between: roles created and updated first, then
assignments and grants added and changed, then app policies, then removals, then roles deleted. On legacy
sites ``read/space`` is granted first and revoked last. A reassign is one change, never remove + add.

Families, each an existing/new pair whose kind follows from which side is set (so a change can only hold
the fields its kind has, and mypy checks every use):

- ``AssignmentChange``: a principal's role in a space, ``old_role`` -> ``role`` (assign, reassign, unassign);
- ``GrantChange``: one individual permission of a principal in a space (grant, revoke);
- ``RoleChange``: a custom role, ``existing`` (the site's, with its id) -> ``new`` (the policy's);
- ``AppPolicyChange``: an org data security policy, ``existing`` -> ``new``.

``reason`` is text for people; nothing decides anything on its wording: what a behaviour needs is a typed
field (``AssignmentChange.replaces``, ``AppPolicyChange.loosens``).
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import TypeAlias

from reconciler.model import READ_SPACE, AppPolicy, Principal, RoleDef, Source, slot_setters

# What the plan shows as the "old role" of an ASSIGN that replaces a principal's individual permissions on a
# transition site (``AssignmentChange.replaces``); the plan file's ``old_role`` for it.
CUSTOM_ACCESS = "custom access"


class ChangeKind(enum.Enum):
    """Each kind: (rank in the fixed order, report symbol, past-tense verb used in summaries)."""

    CREATE_ROLE = (10, "+", "role to create")
    UPDATE_ROLE = (11, "~", "role to update")
    GRANT = (20, "+", "to grant")
    ASSIGN = (21, "+", "to assign")
    REASSIGN = (22, "~", "to change")
    DELETE_APP_POLICY = (30, "-", "data security policy to delete")
    CREATE_APP_POLICY = (31, "+", "data security policy to create")
    UPDATE_APP_POLICY = (32, "~", "data security policy to update")
    UNASSIGN = (40, "-", "to remove")
    REVOKE = (41, "-", "to revoke")
    DELETE_ROLE = (50, "-", "role to delete")

    # Members are singletons compared by identity: hash them by identity too, in C (``Enum.__hash__`` is a
    # Python function, run per change wherever kinds are counted or looked up).
    __hash__ = object.__hash__

    # ``_value_`` is a plain attribute; ``.value`` is a descriptor run in Python (read per change, per sort)
    @property
    def rank(self) -> int:
        return self._value_[0]

    @property
    def symbol(self) -> str:
        return self._value_[1]

    @property
    def noun(self) -> str:
        return self._value_[2]

    @property
    def removes_access(self) -> bool:
        """Kinds that take access away (or loosen an app block), listed first in PR comments."""
        return self in {ChangeKind.UNASSIGN, ChangeKind.REVOKE, ChangeKind.DELETE_ROLE,
                        ChangeKind.DELETE_APP_POLICY}


# Kinds by what they touch. Tuples, not sets: ``in`` on a tuple compares enum members by identity first,
# whereas a set hashes them through ``Enum.__hash__``, a Python function (it shows at 100,000 changes).
_ASSIGN, _REASSIGN, _UNASSIGN = ChangeKind.ASSIGN, ChangeKind.REASSIGN, ChangeKind.UNASSIGN
ROLE_KINDS = (ChangeKind.CREATE_ROLE, ChangeKind.UPDATE_ROLE, ChangeKind.DELETE_ROLE)
APP_POLICY_KINDS = (ChangeKind.CREATE_APP_POLICY, ChangeKind.UPDATE_APP_POLICY, ChangeKind.DELETE_APP_POLICY)
ASSIGNMENT_KINDS = (ChangeKind.ASSIGN, ChangeKind.REASSIGN, ChangeKind.UNASSIGN)
GRANT_KINDS = (ChangeKind.GRANT, ChangeKind.REVOKE)


@dataclass(frozen=True, slots=True)
class Replacement:
    """On a transition site, the individual permissions a role assignment replaces, and those it lacks."""

    permissions: tuple[str, ...]  # sorted
    lost: tuple[str, ...] = ()  # sorted; empty when the role includes them all

    @classmethod
    def of(cls, permissions: Iterable[str], lost: Iterable[str]) -> Replacement:
        return cls(tuple(sorted(permissions)), tuple(sorted(lost)))

    @property
    def reason(self) -> str:
        held, gone = ", ".join(self.permissions), ", ".join(self.lost)
        if gone:
            return f"{REPLACES}{held}{_LOSES}{gone}"
        return f"{REPLACES}{held}{_ALL_KEPT}"


REPLACES = "replaces individual permissions "
_LOSES = "; loses "
_ALL_KEPT = "; the role includes them all"


@dataclass(frozen=True, slots=True, init=False)
class AssignmentChange:
    """A principal's role in a space: ``old_role`` (None: none) -> ``role`` (None: removed).

    ``replaces``: on a transition site, the ASSIGN of a principal on individual permissions replaces them.
    """

    space: str
    principal: Principal
    role: str | None = None
    old_role: str | None = None
    replaces: Replacement | None = None
    source: Source | None = None
    reason: str = ""  # why a removal ("not in policy; space is exact") or a withheld change
    # follows from old_role and role; stored once, since reports and counts read it many times per change
    kind: ChangeKind = field(init=False, repr=False, compare=False)

    def __init__(  # noqa: PLR0917 - the generated __init__'s signature, kept
        self,
        space: str,
        principal: Principal,
        role: str | None = None,
        old_role: str | None = None,
        replaces: Replacement | None = None,
        source: Source | None = None,
        reason: str = "",
    ) -> None:
        # The dataclass's own __init__, written out: the slots are set through their descriptors (C), not
        # object.__setattr__ per field (a plan of 200,000 changes builds 200,000 of these).
        if old_role is None:
            if role is None:
                raise ValueError("an assignment change needs a role or an old role")
            kind = _ASSIGN
        elif replaces is not None:
            raise ValueError("only an assign replaces individual permissions")
        else:
            kind = _UNASSIGN if role is None else _REASSIGN
        _set_space(self, space)
        _set_principal(self, principal)
        _set_role(self, role)
        _set_old_role(self, old_role)
        _set_replaces(self, replaces)
        _set_source(self, source)
        _set_reason(self, reason)
        _set_kind(self, kind)

    @property
    def before(self) -> str | None:
        """What the principal holds before, as reports say it: its role, ``custom access``, or None."""
        return CUSTOM_ACCESS if self.replaces is not None else self.old_role

    @property
    def loses_access(self) -> bool:
        """An assign whose role lacks some of the individual permissions it replaces."""
        return self.replaces is not None and bool(self.replaces.lost)

    @property
    def sort_key(self) -> tuple[int, str, str, int, str]:
        return (self.kind._value_[0], self.space, self.principal.ref, 0, "")  # _value_[0]: kind.rank, in C


_set_space, _set_principal, _set_role, _set_old_role, _set_replaces, _set_source, _set_reason, _set_kind = (
    slot_setters(AssignmentChange, "space", "principal", "role", "old_role", "replaces", "source", "reason",
                 "kind")
)


@dataclass(frozen=True, slots=True)
class GrantChange:
    """One individual permission of a principal in a space; ``permission_id`` is the v1 id of a revoke."""

    kind: ChangeKind  # GRANT or REVOKE
    space: str
    principal: Principal
    permission: str
    permission_id: int | None = None
    source: Source | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind not in GRANT_KINDS:
            raise ValueError(f"{self.kind.name.lower()} is not a grant change")

    @property
    def sort_key(self) -> tuple[int, str, str, int, str]:
        perm_rank = 0  # read/space: granted first, revoked last
        if self.permission == READ_SPACE:
            perm_rank = 1 if self.kind is ChangeKind.REVOKE else -1
        return (self.kind.rank, self.space, self.principal.ref, perm_rank, self.permission)


@dataclass(frozen=True, slots=True)
class SiteRole:
    """A custom role as the site held it when the plan was made: its definition and id."""

    definition: RoleDef
    id: str


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A custom role: ``existing`` (None: create) -> ``new`` (None: delete)."""

    new: RoleDef | None = None
    existing: SiteRole | None = None
    source: Source | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.new is None and self.existing is None:
            raise ValueError("a role change needs a new or an existing role")

    @property
    def kind(self) -> ChangeKind:
        if self.existing is None:
            return ChangeKind.CREATE_ROLE
        return ChangeKind.DELETE_ROLE if self.new is None else ChangeKind.UPDATE_ROLE

    @property
    def name(self) -> str:
        return self.new.name if self.new is not None else self._existing.definition.name

    @property
    def _existing(self) -> SiteRole:
        if self.existing is None:  # excluded by __post_init__
            raise ValueError("a role change needs a new or an existing role")
        return self.existing

    @property
    def sort_key(self) -> tuple[int, str, str, int, str]:
        return (self.kind.rank, "", self.name, 0, "")


@dataclass(frozen=True, slots=True)
class AppPolicyChange:
    """An org data security policy: ``existing`` (None: create) -> ``new`` (None: delete).

    ``loosens``: the change lifts a block somewhere (reports list it with the access that is lost).
    """

    new: AppPolicy | None = None
    existing: AppPolicy | None = None
    source: Source | None = None
    reason: str = ""
    loosens: bool = False

    def __post_init__(self) -> None:
        if self.new is None and self.existing is None:
            raise ValueError("an app policy change needs a new or an existing policy")

    @property
    def kind(self) -> ChangeKind:
        if self.existing is None:
            return ChangeKind.CREATE_APP_POLICY
        return ChangeKind.DELETE_APP_POLICY if self.new is None else ChangeKind.UPDATE_APP_POLICY

    @property
    def policy(self) -> AppPolicy:
        """The policy this change is about: the new one, or for a deletion the existing one."""
        if self.new is not None:
            return self.new
        if self.existing is None:  # excluded by __post_init__
            raise ValueError("an app policy change needs a new or an existing policy")
        return self.existing

    @property
    def sort_key(self) -> tuple[int, str, str, int, str]:
        return (self.kind.rank, "", self.policy.name, 0, "")


AccessChange: TypeAlias = AssignmentChange | GrantChange
Change: TypeAlias = AssignmentChange | GrantChange | RoleChange | AppPolicyChange
ACCESS_CHANGES = (AssignmentChange, GrantChange)  # for isinstance


def ordered(changes: Iterable[Change]) -> tuple[Change, ...]:
    """Changes in the one fixed order used by plans, reports and apply."""
    return tuple(sorted(changes, key=_SORT_KEY))


_SORT_KEY = operator.attrgetter("sort_key")  # no Python frame of its own, unlike a lambda


def of_kinds(changes: Iterable[Change], kinds: tuple[ChangeKind, ...]) -> list[Change]:
    """The changes of ``kinds``, in their order. A plan's changes come in runs of one kind (``ordered``):
    the runs are found in C (``groupby``), so the other kinds cost no Python step per change."""
    return [change for kind, run in groupby(changes, _KIND) if kind in kinds for change in run]


_KIND = operator.attrgetter("kind")
