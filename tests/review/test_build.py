"""The pure core of the access review: who reaches each space, through what, and what the policy says."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import UsageError
from reconciler.model import Authority
from reconciler.review import build_review, diff_reviews, dumps, from_json, person_ref, to_json
from reconciler.review.questions import admins, drifted, guests, undeclared_only
from tests.drift.builders import desired, live, space
from tests.review.builders import members


def _people(review, key):  # type: ignore[no-untyped-def]
    found = review.space(key)
    assert found is not None
    return {a.person.label: a for a in review.people_in(found)}


def test_a_group_member_reaches_the_space_with_the_path_of_the_grant() -> None:
    want = desired(space("ENG", {"group:eng-leads": "Admin"}))
    have = live({"ENG": {"group:eng-leads": "Admin"}})
    review = build_review(want, have, members({"eng-leads": ("acc-alice",)}), site="sandbox:test")
    alice = _people(review, "ENG")["alice"]
    assert [g.describe() for g in alice.grants] == [
        "via group:eng-leads \u2192 Admin, policies/spaces/ENG.yaml:5"
    ]
    assert alice.admin
    assert "administer/space" in alice.permissions


def test_effective_permissions_are_the_union_of_direct_and_group_grants() -> None:
    want = desired(space("ENG", {"group:eng": "Viewer", "user:bob": "Collaborator"}))
    have = live({"ENG": {"group:eng": "Viewer", "user:bob": "Collaborator"}})
    review = build_review(want, have, members({"eng": ("acc-bob",)}), site="s")
    bob = _people(review, "ENG")["bob"]
    assert bob.roles == ("Collaborator", "Viewer")
    assert [g.principal for g in bob.grants] == [f"user:{person_ref('acc-bob')}", "group:eng"]
    assert "create/page" in bob.permissions
    assert "read/space" in bob.permissions


def test_access_classes_are_shown_as_such_and_never_expanded() -> None:
    want = desired(space("PUB", {"class:anonymous-users": "Viewer", "class:all-licensed-users": "Viewer",
                                 "group:eng": "Collaborator"}))
    have = live({"PUB": {"class:anonymous-users": "Viewer", "class:all-licensed-users": "Viewer",
                         "group:eng": "Collaborator"}})
    review = build_review(want, have, members({"eng": ("acc-alice", "acc-guest")}, guests=("acc-guest",)),
                          site="s")
    people = _people(review, "PUB")
    assert set(people) == {"alice", person_ref("acc-guest")}  # nobody is listed through a class alone
    assert [g.principal for g in people["alice"].grants] == [
        "group:eng", "class:all-licensed-users", "class:anonymous-users"
    ]
    # a guest is not known to be a licensed user (undocumented): anonymous access only
    guest = people[person_ref("acc-guest")]
    assert [g.principal for g in guest.grants] == ["group:eng", "class:anonymous-users"]


def test_an_empty_group_reaches_nobody_and_a_missing_group_is_said_to_be_unknown() -> None:
    want = desired(space("S", {}))
    have = live({"S": {"group:empty": "Viewer", "group:gone": "Viewer"}})
    review = build_review(want, have, members({"empty": ()}, missing=("gone",)), site="s")
    assert _people(review, "S") == {}
    data = to_json(review)
    assert data["groups"] == {"empty": {"members": []}, "gone": {"members": [], "missing": True}}


def test_account_ids_and_display_names_appear_only_with_names() -> None:
    want = desired(space("S", {}))
    have = live({"S": {"group:eng": "Viewer"}})
    found = members({"eng": ("acc-alice", "5b10-stranger")})
    hidden = dumps(build_review(want, have, found, site="s"))
    assert "5b10-stranger" not in hidden
    assert "Name of" not in hidden
    assert "acc-alice" not in hidden
    shown = json.loads(dumps(build_review(want, have, found, site="s", names=True)))
    assert shown["people"][person_ref("5b10-stranger")] == {
        "account_id": "5b10-stranger", "guest": False, "name": "Name of 5b10-stranger"
    }


def test_drift_is_seen_per_person_on_an_exact_space() -> None:
    want = desired(space("ENG", {"group:eng": "Collaborator"}))
    have = live({"ENG": {"group:eng": "Viewer", "user:bob": "Collaborator"}})
    review = build_review(want, have, members({"eng": ("acc-alice", "acc-bob")}), site="s")
    rows = {(r.space, r.person.label): r for r in drifted(review)}
    assert set(rows) == {("ENG", "alice")}  # bob holds Collaborator directly: the same permissions
    assert rows[("ENG", "alice")].gains == {"create/page", "create/blogpost", "create/attachment",
                                            "delete/space"}
    assert rows[("ENG", "alice")].losses == frozenset()


def test_an_additive_space_keeps_what_the_policy_does_not_name() -> None:
    want = desired(space("DOC", {"group:eng": "Viewer"}, authority=Authority.ADDITIVE))
    have = live({"DOC": {"group:eng": "Viewer", "group:ops": "Collaborator"}})
    review = build_review(want, have, members({"eng": ("acc-alice",), "ops": ("acc-bob",)}), site="s")
    assert drifted(review) == []
    assert [(u.space, u.access.person.label) for u in undeclared_only(review)] == [("DOC", "bob")]


def test_admins_and_guests_answer_the_reviewers_questions() -> None:
    want = desired(space("ENG", {"group:leads": "Admin", "user:alice": "Viewer"}))
    have = live({"ENG": {"group:leads": "Admin", "user:alice": "Viewer", "group:partners": "Viewer"}})
    found = members({"leads": ("acc-bob",), "partners": ("acc-ext",)}, guests=("acc-ext",))
    review = build_review(want, have, found, site="s")
    [row] = admins(review)
    assert [p.person.label for p in row.people] == ["bob"]
    assert [g.principal for g in row.principals] == ["group:leads"]
    [guest] = guests(review)
    assert guest.person.ref == person_ref("acc-ext")
    assert [(key, [g.describe() for g in a.grants]) for key, a in guest.spaces] == [
        ("ENG", ["via group:partners \u2192 Viewer, not in the policy"])
    ]


def test_person_filter_keeps_their_grants_and_their_groups() -> None:
    want = desired(space("ENG", {}))
    have = live({"ENG": {"group:eng": "Viewer", "user:bob": "Admin"}})
    found = members({"eng": ("acc-alice", "acc-bob")})
    review = build_review(want, have, found, site="s", persons=("alice",))
    assert set(_people(review, "ENG")) == {"alice"}


def test_a_saved_review_loads_back_to_the_same_document() -> None:
    want = desired(space("ENG", {"group:eng": "Collaborator"}))
    have = live({"ENG": {"group:eng": "Viewer", "class:anonymous-users": "Viewer"}})
    review = build_review(want, have, members({"eng": ("acc-alice",)}), site="s")
    text = dumps(review)
    assert dumps(from_json(json.loads(text), "old.json")) == text


def test_a_file_that_is_not_a_review_is_one_line_naming_it() -> None:
    with pytest.raises(UsageError) as caught:
        from_json({"format": "something-else"}, "q3.json")
    assert str(caught.value) == ('q3.json: not an access review (expected "format": '
                                 '"reconciler-access-review"); save one with: reconciler access --format '
                                 'json --out FILE')


def test_two_reviews_diff_to_who_gained_lost_and_changed() -> None:
    want = desired(space("ENG", {}))
    found = members({"eng": ("acc-alice", "acc-bob"), "leads": ("acc-alice",)})
    old = build_review(want, live({"ENG": {"group:eng": "Viewer", "user:svc": "Admin"}}), found, site="s")
    new = build_review(want, live({"ENG": {"group:eng": "Viewer", "group:leads": "Admin"}}), found, site="s")
    result = diff_reviews(old, new)
    assert [(c.space, c.who, c.kind) for c in result.changes] == [
        ("ENG", "alice", "changed"), ("ENG", "svc", "lost")
    ]
    assert "administer/space" in result.changes[0].added


def test_users_read_from_the_site_name_and_flag_people_assigned_directly() -> None:
    from reconciler.live_state import Member

    want = desired(space("ENG", {}))
    have = live({"ENG": {"user:5b10-ext": "Viewer"}})
    users = {"5b10-ext": Member("5b10-ext", "Ext Ernal", guest=True)}
    review = build_review(want, have, {}, site="s", names=True, users=users)
    [person] = review.people.values()
    assert (person.name, person.guest) == ("Ext Ernal", True)
