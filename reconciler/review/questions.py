"""The questions a reviewer asks of a :class:`Review`, each a pure function returning sorted rows."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model import ADMINISTER_SPACE
from reconciler.review.model import Grant, PersonAccess, PersonDrift, PersonInfo, Review


@dataclass(frozen=True, slots=True)
class SpaceAdmins:
    space: str
    people: tuple[PersonAccess, ...]  # people holding administer/space, by any path
    principals: tuple[Grant, ...]  # the groups and access classes holding it (not expanded for classes)


def admins(review: Review) -> list[SpaceAdmins]:
    """Who can administer each space: ``administer/space`` among the person's effective permissions."""
    result = []
    for space in review.spaces:
        holding = [g for g in space.grants if ADMINISTER_SPACE in g.permissions]
        refs = {ref for g in holding for ref in review.reach(g)}
        found = [review.access_of(space, ref) for ref in refs]
        people = tuple(sorted((a for a in found if a is not None),
                              key=lambda a: (a.person.label, a.person.ref)))
        principals = tuple(g for g in holding if g.kind != "user")
        result.append(SpaceAdmins(space.key, people, principals))
    return result


@dataclass(frozen=True, slots=True)
class GuestReach:
    person: PersonInfo
    spaces: tuple[tuple[str, PersonAccess], ...]  # (space key, access), by key


def guests(review: Review) -> list[GuestReach]:
    """Every guest the review knows (policy ``guest: true`` or the site's ``isGuest``) and exactly which
    managed spaces they reach, through what."""
    reach: dict[str, list[tuple[str, PersonAccess]]] = {
        ref: [] for ref, p in review.people.items() if p.guest
    }
    for space in review.spaces:
        for ref, found in reach.items():
            access = review.access_of(space, ref)
            if access is not None:
                found.append((space.key, access))
    rows = [GuestReach(review.person(ref), tuple(items)) for ref, items in reach.items()]
    return sorted(rows, key=lambda r: (r.person.label, r.person.ref))


@dataclass(frozen=True, slots=True)
class Undeclared:
    space: str
    access: PersonAccess


def undeclared_only(review: Review) -> list[Undeclared]:
    """People who reach a space only through groups the policy does not name there (access classes aside)."""
    rows = []
    for space in review.spaces:
        candidates = {ref for g in space.grants if g.kind == "group" and g.declared is None
                      for ref in review.reach(g)}
        found = []
        for ref in candidates:
            access = review.access_of(space, ref)
            own = [g for g in access.grants if g.kind != "class"] if access else []
            if access and all(g.kind == "group" and g.declared is None for g in own):
                found.append(Undeclared(space.key, access))
        rows += sorted(found, key=lambda u: (u.access.person.label, u.access.person.ref))
    return rows


@dataclass(frozen=True, slots=True)
class Drifted:
    space: str
    person: PersonInfo
    drift: PersonDrift

    @property
    def gains(self) -> frozenset[str]:
        """Permissions the policy would give that the person lacks."""
        return self.drift.policy - self.drift.live

    @property
    def losses(self) -> frozenset[str]:
        """Permissions the person holds that the policy would not give."""
        return self.drift.live - self.drift.policy


def drifted(review: Review) -> list[Drifted]:
    """People whose effective access in a space differs from what the policy gives them."""
    return [Drifted(space.key, review.person(d.ref), d) for space in review.spaces for d in space.drift]
