"""Build a :class:`Review` from the policy, the live state and the group members read from the site. Pure.

For each managed space: every grant the site holds (role assignments and custom access), each with the
policy line declaring that principal there (the space entry or the ``defaults`` rule that wins), and what
the policy says instead when it differs. Per person, the policy's effective permissions are computed the
same way from the policy's assignments (``additive`` spaces keep what the policy does not name) and
compared with the live ones: a difference is drift seen per person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.live_state import GroupMembers, LiveSpace, LiveState, Member
from reconciler.model import Authority, DesiredState, EffectiveSpace, Principal, PrincipalKind, Source
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS
from reconciler.policy.resolve import effective_space
from reconciler.review.model import (
    CUSTOM,
    Grant,
    GroupInfo,
    PersonDrift,
    PersonInfo,
    Review,
    SpaceReview,
    applies,
    person_ref,
)
from reconciler.vocabulary import without_apps


def groups_to_read(desired: DesiredState, live: LiveState) -> dict[str, str]:
    """Group name -> id for every group that holds access in a managed space or that the policy assigns
    there and the site knows: the groups whose members a review reads (once each)."""
    result: dict[str, str] = {}
    for space in live.spaces.values():
        for principal in [*space.assignments, *space.grants]:
            if principal.kind is PrincipalKind.GROUP:
                result[principal.id] = live.group_ids.get(principal.id, principal.id)
        eff = effective_space(desired, space.info)
        for principal in [*(eff.assignments if eff else {}), *(eff.grants if eff else {})]:
            if principal.kind is PrincipalKind.GROUP and principal.id in live.group_ids:
                result[principal.id] = live.group_ids[principal.id]
    return dict(sorted(result.items()))


@dataclass(frozen=True, slots=True)
class _Roles:
    live: Mapping[str, frozenset[str]]
    policy: Mapping[str, frozenset[str]]

    def of_live(self, role: str) -> frozenset[str]:
        return self.live.get(role, DEFAULT_ROLE_PERMISSIONS.get(role, frozenset()))

    def of_policy(self, role: str) -> frozenset[str]:
        return self.policy.get(role) or self.of_live(role)


def build_review(
    desired: DesiredState,
    live: LiveState,
    members: Mapping[str, GroupMembers],
    *,
    site: str,
    names: bool = False,
    spaces: Sequence[str] = (),
    persons: Sequence[str] = (),
    notes: Sequence[str] = (),
    users: Mapping[str, Member] | None = None,
) -> Review:
    """The review of the managed spaces in ``live`` (only ``spaces``, and only ``persons`` — handles or
    account ids — when given). ``members``: group name -> members, as read from the site; ``users``:
    account id -> the site's display name and guest flag for people assigned directly (optional).
    Installed apps' users are not people: they are left out (as plans leave them alone)."""
    apps = live.accounts.apps if live.accounts is not None else frozenset()
    live = without_apps(live)
    users = {account: member for account, member in (users or {}).items() if account not in apps}
    roles = _Roles({n: r.permissions for n, r in live.roles.items()},
                   {n: r.permissions for n, r in desired.roles.items()})
    people = _people(desired, live, members, names, users or {})
    groups = {name: GroupInfo(name, tuple(sorted({person_ref(m.account_id) for m in gm.members})), gm.missing)
              for name, gm in members.items()}
    review_spaces = []
    for key in sorted(live.spaces):
        if spaces and key not in spaces:
            continue
        space = live.spaces[key]
        eff = effective_space(desired, space.info)
        if eff is None:
            continue
        grants = tuple(sorted(_grants(space, eff, roles), key=lambda g: (g.kind, g.who)))
        review_spaces.append(SpaceReview(key, space.info.name, eff.authority.value, grants))
    review = Review(site, names, dict(sorted(people.items())), dict(sorted(groups.items())),
                    tuple(review_spaces), tuple(notes))
    review = _with_drift(review, desired, live, roles)
    if persons:
        review = only_people(review, _refs_of(desired, persons))
    return review


def only_people(review: Review, refs: Iterable[str]) -> Review:
    """The review restricted to these people: their own grants, their groups' grants, the access classes."""
    keep = frozenset(refs)
    groups = {n: GroupInfo(n, tuple(m for m in g.members if m in keep), g.missing)
              for n, g in review.groups.items()}
    spaces = tuple(
        SpaceReview(s.key, s.name, s.authority,
                    tuple(g for g in s.grants if _kept(g, keep, groups)),
                    tuple(d for d in s.drift if d.ref in keep))
        for s in review.spaces
    )
    people = {r: p for r, p in review.people.items() if r in keep}
    return Review(review.site, review.names, people, groups, spaces, review.notes)


def _kept(grant: Grant, keep: frozenset[str], groups: Mapping[str, GroupInfo]) -> bool:
    if grant.kind == "user":
        return grant.who in keep
    if grant.kind == "group":
        return bool(groups.get(grant.who) and groups[grant.who].members)
    return True


def _refs_of(desired: DesiredState, persons: Sequence[str]) -> set[str]:
    refs = set()
    for handle in persons:
        person = desired.people.get(handle)
        refs.add(person_ref(person.account_id if person else handle))
    return refs


def _people(
    desired: DesiredState, live: LiveState, members: Mapping[str, GroupMembers], names: bool,
    users: Mapping[str, Member],
) -> dict[str, PersonInfo]:
    handles = {p.account_id: p for p in desired.people.values()}
    seen: dict[str, tuple[str, bool]] = {}  # account id -> (display name, guest per the site)
    for member in [*(m for g in members.values() for m in g.members), *users.values()]:
        name, guest = seen.get(member.account_id, ("", False))
        seen[member.account_id] = (member.display_name or name, guest or member.guest)
    for space in live.spaces.values():
        for principal in [*space.assignments, *space.grants]:
            if principal.kind is PrincipalKind.USER:
                seen.setdefault(principal.id, ("", False))
    result = {}
    for account_id, (name, site_guest) in seen.items():
        known = handles.get(account_id)
        ref = person_ref(account_id)
        result[ref] = PersonInfo(
            ref,
            handle=known.handle if known else None,
            account_id=account_id if names else None,
            name=(name or None) if names else None,
            guest=site_guest or bool(known and known.guest),
        )
    return result


def _grants(space: LiveSpace, eff: EffectiveSpace, roles: _Roles) -> Iterable[Grant]:
    for principal, role in space.assignments.items():
        declared, policy = _declared_role(eff, principal)
        yield Grant(principal.kind.value, _who(principal), role, roles.of_live(role),
                    declared, policy if policy != role else None)
    for principal, held in space.grants.items():
        perms = frozenset(held)
        access = _custom(perms)
        declared, policy = _declared_grant(eff, principal)
        yield Grant(principal.kind.value, _who(principal), access, perms, declared,
                    policy if policy != access else None)


def _who(principal: Principal) -> str:
    return person_ref(principal.id) if principal.kind is PrincipalKind.USER else principal.id


def _where(source: Source) -> str:
    return f"{source.file}:{source.line}"


def _custom(permissions: Iterable[str]) -> str:
    """How a set of custom permissions is shown; an empty set is the policy's ``none``."""
    listed = sorted(permissions)
    return CUSTOM + ", ".join(listed) if listed else "none"


def _declared_role(eff: EffectiveSpace, principal: Principal) -> tuple[str | None, str | None]:
    wanted = eff.assignments.get(principal)
    if wanted is not None:
        return _where(wanted.source), wanted.role or "none"
    grant = eff.grants.get(principal)
    if grant is not None:
        return _where(grant.source), _custom(grant.permissions)
    return None, None


def _declared_grant(eff: EffectiveSpace, principal: Principal) -> tuple[str | None, str | None]:
    grant = eff.grants.get(principal)
    if grant is not None:
        return _where(grant.source), _custom(grant.permissions)
    wanted = eff.assignments.get(principal)
    if wanted is not None:
        return _where(wanted.source), wanted.role or "none"
    return None, None


# ------------------------------------------------------------------------------------- drift per person


def _with_drift(review: Review, desired: DesiredState, live: LiveState, roles: _Roles) -> Review:
    spaces = []
    for space_review in review.spaces:
        space = live.spaces[space_review.key]
        eff = effective_space(desired, space.info)
        assert eff is not None
        drift = _space_drift(review, space_review.grants, _policy_grants(space, eff, roles))
        spaces.append(SpaceReview(space_review.key, space_review.name, space_review.authority,
                                  space_review.grants, drift))
    people = dict(review.people)
    policy_people = {person_ref(p.account_id): p for p in desired.people.values()}
    for reviewed in spaces:
        for item in reviewed.drift:
            if item.ref not in people:
                known = policy_people.get(item.ref)
                people[item.ref] = PersonInfo(
                    item.ref, handle=known.handle if known else None,
                    account_id=known.account_id if known and review.names else None,
                    guest=bool(known and known.guest))
    return Review(review.site, review.names, dict(sorted(people.items())), review.groups, tuple(spaces),
                  review.notes)


def _by_principal(grants: Iterable[Grant]) -> dict[tuple[str, str], frozenset[str]]:
    out: dict[tuple[str, str], frozenset[str]] = {}
    for grant in grants:
        key = (grant.kind, grant.who)
        out[key] = out.get(key, frozenset()) | grant.permissions
    return out


def _space_drift(review: Review, have: tuple[Grant, ...], want: tuple[Grant, ...]) -> tuple[PersonDrift, ...]:
    """People whose permissions differ between the live grants and the policy's. Only the people reached by
    a principal whose permissions differ can differ (all of them when an access class differs), so only
    they are expanded: the cost follows the differences, not the space's size."""
    live_map, want_map = _by_principal(have), _by_principal(want)
    differing = [k for k in live_map.keys() | want_map.keys() if live_map.get(k) != want_map.get(k)]
    if not differing:
        return ()
    if any(kind == "class" for kind, _ in differing):
        every = [*have, *want]
        candidates = {ref for g in every for ref in review.reach(g)}
    else:
        candidates = {ref for kind, who in differing
                      for ref in review.reach(Grant(kind, who, "", frozenset()))}
    rows = []
    for ref in sorted(candidates):
        person = review.person(ref)
        before, after = _permissions(review, have, person), _permissions(review, want, person)
        if before != after:
            rows.append(PersonDrift(ref, before, after))
    return tuple(rows)


def _permissions(review: Review, grants: tuple[Grant, ...], person: PersonInfo) -> frozenset[str]:
    own = [g for g in grants if g.kind != "class" and review.reaches(g, person.ref)]
    if not own:
        return frozenset()
    every = own + [g for g in grants if g.kind == "class" and applies(g.who, person)]
    return frozenset().union(*(g.permissions for g in every))


def _policy_grants(space: LiveSpace, eff: EffectiveSpace, roles: _Roles) -> tuple[Grant, ...]:
    """The grants the policy gives this space: its assignments and grants; on an additive space, also every
    live grant of a principal the policy does not name (additive authority keeps them)."""
    grants: list[Grant] = []
    named: set[Principal] = set()
    for principal, wanted in eff.assignments.items():
        named.add(principal)
        if wanted.role is not None:
            grants.append(Grant(principal.kind.value, _who(principal), wanted.role,
                                roles.of_policy(wanted.role)))
    for principal, grant in eff.grants.items():
        named.add(principal)
        if grant.permissions:
            grants.append(Grant(principal.kind.value, _who(principal), "custom",
                                frozenset(grant.permissions)))
    if eff.authority is Authority.ADDITIVE:
        for principal, role in space.assignments.items():
            if principal not in named:
                grants.append(Grant(principal.kind.value, _who(principal), role, roles.of_live(role)))
        for principal, held in space.grants.items():
            if principal not in named:
                grants.append(Grant(principal.kind.value, _who(principal), "custom", frozenset(held)))
    return tuple(grants)


__all__ = ["build_review", "groups_to_read", "only_people"]
