"""The fast forms of the diff's hot paths give exactly what the plain forms gave (docs/performance.md).

Each property below compares the code with the straightforward definition it replaced, written out here:
the fingerprint (same bytes), the merge of defaults under a space entry (same principals, order, key
objects and assignments), who counts as an admin, the changes of some kinds, and the value semantics of
the classes that now build themselves (``Principal``, ``AssignmentChange``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from dataclasses import FrozenInstanceError, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.fingerprint import fingerprint
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import (
    ADMINISTER_SPACE,
    Authority,
    DefaultRule,
    DesiredAssignment,
    DesiredSpace,
    Principal,
    PrincipalKind,
    RoleMode,
    Source,
    SpaceSelector,
)
from reconciler.permissions import space_admins
from reconciler.plan.changes import AssignmentChange, Change, ChangeKind, Replacement, of_kinds, ordered
from reconciler.policy.resolve import effective_space
from tests.kit.state import desired_state
from tests.plan.test_planfile import changes as any_change

# ids and names with what JSON escapes and what sorts around ":" (space, "!", quotes, control characters)
names = st.text(st.sampled_from(['a', 'b', 'Z', ' ', '!', '"', '\\', ':', '-', '\n', 'é', '\u2028']),
                min_size=1, max_size=4)
principals = st.builds(Principal, st.sampled_from(PrincipalKind), names, st.none() | names)
roles = st.sampled_from(["Admin", "Viewer", "Ops", "Gone"])
SRC = Source("policies/spaces/ENG.yaml", 3)


def _reference_fingerprint(live: LiveState) -> str:
    """The fingerprint as first written: lists built in Python, then json.dumps."""
    spaces = [
        [key, space.info.id,
         sorted([p.kind.value + ":" + p.id, role] for p, role in space.assignments.items()),
         sorted([p.kind.value + ":" + p.id, perm, pid]
                for p, perms in space.grants.items() for perm, pid in perms.items())]
        for key, space in sorted(live.spaces.items())
    ]
    state = {
        "mode": live.mode.value,
        "roles": sorted([r.name, r.id, r.type, r.description, sorted(r.permissions)]
                        for r in live.roles.values()),
        "permissions": sorted(live.permissions),
        "spaces": spaces,
        "group_ids": sorted(live.group_ids.items()),
        "missing": sorted(live.missing),
    }
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


live_spaces = st.builds(
    lambda key, held, grants: LiveSpace(SpaceInfo(key, f"id-{key}", key, "global"), held, grants),
    names,
    st.dictionaries(principals, roles, max_size=6),
    st.dictionaries(principals, st.dictionaries(names, st.integers(-5, 2**40), max_size=3), max_size=3),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(live_spaces, max_size=3))
def test_the_fingerprint_is_the_hash_of_the_same_canonical_bytes_as_before(spaces: list[LiveSpace]) -> None:
    live = LiveState(
        RoleMode.ROLES_TRANSITION,
        {"Ops": LiveRole("Ops", "r-1", "CUSTOM", "d", frozenset({"read/space"}))},
        frozenset({"read/space"}),
        {space.key: space for space in spaces},
        {"staff": "gid-1"},
    )
    assert fingerprint(live) == _reference_fingerprint(live)


def _reference_merge(rules: list[list[DesiredAssignment]], declared: list[DesiredAssignment]) -> list[Any]:
    """The merge as first written: dict updates in rule order, the space entry last, then a sort by
    (kind, id)."""
    merged: dict[Principal, DesiredAssignment] = {}
    for rule in rules:
        merged.update((a.principal, a) for a in rule)
    merged.update((a.principal, a) for a in declared)
    return [(p, p.label, a) for p, a in sorted(merged.items(), key=lambda item: (item[0].kind, item[0].id))]


assignment_lists = st.lists(
    st.builds(DesiredAssignment, principals, st.none() | roles, st.builds(Source, names, st.integers(1, 99))),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(assignment_lists, max_size=3), assignment_lists)
def test_defaults_merge_under_the_space_entry_as_before(
    rules: list[list[DesiredAssignment]], declared: list[DesiredAssignment]
) -> None:
    # principals repeat with other labels: the key each keeps (its label) is part of what must not move
    desired = desired_state(
        defaults=tuple(DefaultRule(f"r{i}", SpaceSelector(("*",)), tuple(rule), SRC)
                       for i, rule in enumerate(rules)),
        spaces={"ENG": DesiredSpace("ENG", Authority.EXACT, tuple(declared), (), (), (), SRC)},
    )
    space = effective_space(desired, SpaceInfo("ENG", "1", "Eng", "global"))
    assert space is not None
    assert [(p, p.label, a) for p, a in space.assignments.items()] == _reference_merge(rules, declared)


def _reference_admins(held: dict[Principal, str], grants: dict[Principal, frozenset[str]],
                      permissions: dict[str, frozenset[str]]) -> frozenset[Principal]:
    admins = {p for p, perms in grants.items() if ADMINISTER_SPACE in perms}
    for principal, role in held.items():
        perms = permissions.get(role)
        if (role == "Admin" if perms is None else ADMINISTER_SPACE in perms):
            admins.add(principal)
    return frozenset(admins)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(principals, roles, max_size=8),
    st.dictionaries(principals, st.sampled_from([frozenset(), frozenset({ADMINISTER_SPACE})]), max_size=3),
    st.dictionaries(roles, st.sampled_from([frozenset(), frozenset({ADMINISTER_SPACE})]), max_size=3),
)
def test_admins_are_counted_as_before(
    held: dict[Principal, str],
    grants: dict[Principal, frozenset[str]],
    permissions: dict[str, frozenset[str]],
) -> None:
    assert space_admins(held, grants, permissions.get) == _reference_admins(held, grants, permissions)


def test_a_principal_keeps_its_value_semantics() -> None:
    ann = Principal(PrincipalKind.USER, "5b10", label="ann")
    assert ann == Principal(PrincipalKind.USER, "5b10")  # the label is display only
    assert hash(ann) == hash(Principal(PrincipalKind.USER, "5b10", unknown=True))
    assert repr(ann) == "Principal(kind=<PrincipalKind.USER: 'user'>, id='5b10', label='ann', unknown=False)"
    assert ann.ref == "user:5b10"
    assert sorted([ann, Principal(PrincipalKind.GROUP, "z"), Principal(PrincipalKind.CLASS, "x")]) == [
        Principal(PrincipalKind.CLASS, "x"), Principal(PrincipalKind.GROUP, "z"), ann]
    for twin in (pickle.loads(pickle.dumps(ann)), copy.copy(ann), copy.deepcopy(ann)):
        assert (twin, twin.label, twin.ref) == (ann, "ann", "user:5b10")
    moved = replace(ann, id="6c20")
    assert (moved.ref, moved.label) == ("user:6c20", "ann")
    with pytest.raises(FrozenInstanceError):
        ann.id = "x"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        ann.ref = "user:x"  # type: ignore[misc]


def test_an_assignment_change_keeps_its_value_semantics_and_its_checks() -> None:
    ann = Principal(PrincipalKind.USER, "5b10")
    change = AssignmentChange("ENG", ann, "Viewer", "Admin", source=SRC)
    assert change.kind is ChangeKind.REASSIGN
    assert change == AssignmentChange("ENG", ann, role="Viewer", old_role="Admin", source=SRC)
    assert change != replace(change, reason="kept")
    assert replace(change, role=None).kind is ChangeKind.UNASSIGN
    assert replace(change, old_role=None).kind is ChangeKind.ASSIGN
    assert pickle.loads(pickle.dumps(change)) == change
    assert pickle.loads(pickle.dumps(change)).kind is ChangeKind.REASSIGN
    assert repr(change).startswith("AssignmentChange(space='ENG', principal=Principal(")
    assert "ChangeKind" not in repr(change)  # kind follows from the roles: not shown, as before
    with pytest.raises(FrozenInstanceError):
        change.role = "Admin"  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"^an assignment change needs a role or an old role$"):
        AssignmentChange("ENG", ann)
    with pytest.raises(ValueError, match=r"^only an assign replaces individual permissions$"):
        AssignmentChange("ENG", ann, "Viewer", "Admin", Replacement(("read/space",)))


@settings(max_examples=200, deadline=None)
@given(st.lists(any_change, max_size=12), st.lists(st.sampled_from(ChangeKind), max_size=4).map(tuple),
       st.booleans())
def test_the_changes_of_some_kinds_are_those_a_filter_gives(
    changes: list[Change], kinds: tuple[ChangeKind, ...], in_plan_order: bool
) -> None:
    listed = list(ordered(changes)) if in_plan_order else changes  # runs of one kind, or any order
    assert of_kinds(listed, kinds) == [c for c in listed if c.kind in kinds]
