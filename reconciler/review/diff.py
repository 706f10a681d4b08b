"""Who gained and who lost access between two saved reviews (e.g. last quarter's and today's).

Compared per (space, person) on effective permissions: a person is keyed by the pseudonymous ``ref``, so
reviews taken with and without ``--names`` compare. Access classes are compared per space as principals.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.review.model import PersonInfo, Review


@dataclass(frozen=True, slots=True)
class Change:
    space: str
    who: str  # the person's label, or ``class:<id>``
    ref: str  # person ref, or ``class:<id>``
    before: frozenset[str]
    after: frozenset[str]

    @property
    def kind(self) -> str:
        if not self.before:
            return "gained"
        if not self.after:
            return "lost"
        return "changed"

    @property
    def added(self) -> frozenset[str]:
        return self.after - self.before

    @property
    def removed(self) -> frozenset[str]:
        return self.before - self.after


@dataclass(frozen=True, slots=True)
class ReviewDiff:
    old_site: str
    new_site: str
    changes: tuple[Change, ...]  # by space, then who
    spaces_added: tuple[str, ...] = ()
    spaces_removed: tuple[str, ...] = ()

    @property
    def people(self) -> frozenset[str]:
        """Refs of the people whose access changed anywhere."""
        return frozenset(c.ref for c in self.changes if not c.ref.startswith("class:"))


def _access(review: Review) -> dict[tuple[str, str], frozenset[str]]:
    out: dict[tuple[str, str], frozenset[str]] = {}
    for space in review.spaces:
        for access in review.people_in(space):
            out[(space.key, access.person.ref)] = access.permissions
        for grant in space.grants:
            if grant.kind == "class":
                key = (space.key, grant.principal)
                out[key] = out.get(key, frozenset()) | grant.permissions
    return out


def diff_reviews(old: Review, new: Review) -> ReviewDiff:
    before, after = _access(old), _access(new)
    changes = []
    for space, ref in sorted(set(before) | set(after)):
        was, now = before.get((space, ref), frozenset()), after.get((space, ref), frozenset())
        if was != now:
            changes.append(Change(space, _label(new, old, ref), ref, was, now))
    old_keys, new_keys = {s.key for s in old.spaces}, {s.key for s in new.spaces}
    return ReviewDiff(old.site, new.site, tuple(sorted(changes, key=lambda c: (c.space, c.who, c.ref))),
                      tuple(sorted(new_keys - old_keys)), tuple(sorted(old_keys - new_keys)))


def _label(new: Review, old: Review, ref: str) -> str:
    if ref.startswith("class:"):
        return ref
    person: PersonInfo | None = new.people.get(ref) or old.people.get(ref)
    return person.label if person else ref
