"""The access review's values: who holds what in each space, kept at the principal level, expanded on demand.

A review stores what the site says (each space's grants: a user, a group or an access class holding a
role or custom permissions, with the policy line that declares it) next to the people and the group
members it read. People are expanded from that on demand (:meth:`Review.people_in`), so a review of 2,000
spaces and 5,000 people stays the size of its assignments plus its memberships, not of their product.

Privacy: a person is keyed by ``ref``, a pseudonym derived from the account id (sha256, 12 hex digits), so
two reviews compare even when one has names and the other not. The policy's handle is shown when the
policy knows the person; the account id and the display name only when the review was taken with
``--names``. A pseudonym is not anonymity: anyone holding the account id can compute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.model import ADMINISTER_SPACE

ANONYMOUS = "anonymous-users"
# Access classes that include every licensed person of the site; whether they include guests is not
# documented (confluence-api.md §6.4), so a guest is never given their permissions.
LICENSED_CLASSES = frozenset({"authenticated-users", "all-licensed-users"})
ARROW = "\u2192"
CUSTOM = "custom access: "  # a grant of individual (legacy) permissions: "custom access: read/space"


def person_ref(account_id: str) -> str:
    """The stable pseudonym of an account: ``u-`` and 12 hex digits of its sha256."""
    return "u-" + hashlib.sha256(account_id.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class PersonInfo:
    ref: str
    handle: str | None = None  # the policy's people handle
    account_id: str | None = None  # only with --names
    name: str | None = None  # display name, only with --names
    guest: bool = False

    @property
    def label(self) -> str:
        """How reports name the person: the handle, else the account id (with names), else the pseudonym."""
        return self.handle or self.account_id or self.ref


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: str
    members: tuple[str, ...]  # person refs, sorted
    missing: bool = False  # the site does not know the group id: members cannot be named


@dataclass(frozen=True, slots=True)
class Grant:
    """One principal's access in one space, as the site holds it.

    ``kind``: ``user`` (``who`` is a person ref), ``group`` (a group name) or ``class`` (an access class id).
    ``declared``: the policy line that names this principal for this space (``policies/spaces/ENG.yaml:7``),
    None when the policy does not. ``policy``: what the policy says instead, when it says something else
    (a role name, ``none``, or custom permissions).
    """

    kind: str
    who: str
    access: str  # role name, or "custom access: read/space, ..."
    permissions: frozenset[str]
    declared: str | None = None
    policy: str | None = None

    @property
    def principal(self) -> str:
        return f"{self.kind}:{self.who}"

    def describe(self) -> str:
        """``via group:eng-leads → Admin, policies/spaces/ENG.yaml:7`` (``directly`` for a user's own)."""
        how = "directly" if self.kind == "user" else f"via {self.principal}"
        return f"{how} {self.tail()}"

    def tail(self) -> str:
        """``→ Admin, policies/spaces/ENG.yaml:7`` (and what the policy says instead, when it differs)."""
        where = self.declared or "not in the policy"
        text = f"{ARROW} {self.access}, {where}"
        return f"{text} (policy: {self.policy})" if self.policy else text


@dataclass(frozen=True, slots=True)
class PersonAccess:
    """One person's effective access to one space: the union of every grant that reaches them."""

    person: PersonInfo
    permissions: frozenset[str]
    grants: tuple[Grant, ...]  # user first, then groups, then classes

    @property
    def admin(self) -> bool:
        return ADMINISTER_SPACE in self.permissions

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(sorted({g.access for g in self.grants}))


@dataclass(frozen=True, slots=True)
class PersonDrift:
    """A person whose effective access differs from what the policy gives them (permissions)."""

    ref: str
    live: frozenset[str]
    policy: frozenset[str]


@dataclass(frozen=True, slots=True)
class SpaceReview:
    key: str
    name: str
    authority: str  # exact | additive
    grants: tuple[Grant, ...]  # sorted by kind, then who
    drift: tuple[PersonDrift, ...] = ()


@dataclass(frozen=True, slots=True)
class Review:
    site: str
    names: bool
    people: Mapping[str, PersonInfo]  # ref -> person
    groups: Mapping[str, GroupInfo]  # name -> group
    spaces: tuple[SpaceReview, ...]  # sorted by key
    notes: tuple[str, ...] = ()
    _index: dict[str, SpaceReview] = field(default_factory=dict, compare=False, repr=False)
    _sets: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def space(self, key: str) -> SpaceReview | None:
        if not self._index:
            self._index.update((s.key, s) for s in self.spaces)
        return self._index.get(key)

    def person(self, ref: str) -> PersonInfo:
        return self.people.get(ref) or PersonInfo(ref)

    def members(self, group: str) -> frozenset[str]:
        """The refs of a group's members (empty for a group whose members were not read)."""
        if group not in self._sets:
            found = self.groups.get(group)
            self._sets[group] = frozenset(found.members) if found else frozenset()
        return self._sets[group]

    def reach(self, grant: Grant) -> Iterable[str]:
        """The people a user or group grant reaches (access classes reach nobody by name)."""
        if grant.kind == "user":
            return (grant.who,)
        if grant.kind == "group":
            return self.members(grant.who)
        return ()

    def reaches(self, grant: Grant, ref: str) -> bool:
        if grant.kind == "user":
            return grant.who == ref
        return grant.kind == "group" and ref in self.members(grant.who)

    def access_of(self, space: SpaceReview, ref: str) -> PersonAccess | None:
        """One person's access to ``space``, or None when no user or group grant reaches them."""
        own = [g for g in space.grants if g.kind != "class" and self.reaches(g, ref)]
        return self._access(space, self.person(ref), own) if own else None

    def people_in(self, space: SpaceReview) -> list[PersonAccess]:
        """Every person a user or group grant reaches in ``space``, sorted by label, with the access classes
        that certainly include them added (anonymous: everyone; the licensed classes: non-guests)."""
        reached: dict[str, list[Grant]] = {}
        for grant in space.grants:
            for ref in self.reach(grant):
                reached.setdefault(ref, []).append(grant)
        result = [self._access(space, self.person(ref), grants) for ref, grants in reached.items()]
        return sorted(result, key=lambda a: (a.person.label, a.person.ref))

    def _access(self, space: SpaceReview, person: PersonInfo, own: list[Grant]) -> PersonAccess:
        applied = [g for g in space.grants if g.kind == "class" and applies(g.who, person)]
        every = (*sorted(own, key=_grant_order), *applied)
        permissions = frozenset().union(*(g.permissions for g in every))
        return PersonAccess(person, permissions, every)


def _grant_order(grant: Grant) -> tuple[int, str]:
    return (0 if grant.kind == "user" else 1, grant.who)


def applies(class_id: str, person: PersonInfo) -> bool:
    """Whether an access class certainly includes ``person``."""
    if class_id == ANONYMOUS:
        return True
    return class_id in LICENSED_CLASSES and not person.guest
