"""Properties of the review diff over random sites: empty against itself, symmetric, and exactly the
(space, person) pairs whose effective permissions differ."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.review import Grant, GroupInfo, PersonInfo, Review, SpaceReview, diff_reviews

PEOPLE = [f"u-{i:012x}" for i in range(6)]
ROLES = {"Viewer": frozenset({"read/space"}), "Editor": frozenset({"read/space", "create/page"}),
         "Admin": frozenset({"read/space", "administer/space"})}

grants = st.lists(
    st.one_of(
        st.tuples(st.just("user"), st.sampled_from(PEOPLE), st.sampled_from(sorted(ROLES))),
        st.tuples(st.just("group"), st.sampled_from(["a", "b"]), st.sampled_from(sorted(ROLES))),
        st.tuples(st.just("class"), st.just("anonymous-users"), st.sampled_from(sorted(ROLES))),
    ),
    max_size=5, unique_by=lambda g: (g[0], g[1]),
)
sites = st.tuples(
    st.dictionaries(st.sampled_from(["S1", "S2"]), grants, max_size=2),
    st.fixed_dictionaries({"a": st.sets(st.sampled_from(PEOPLE)), "b": st.sets(st.sampled_from(PEOPLE))}),
)


def _review(site: tuple[dict[str, list[tuple[str, str, str]]], dict[str, set[str]]]) -> Review:
    spaces, groups = site
    return Review(
        "s", False, {p: PersonInfo(p) for p in PEOPLE},
        {g: GroupInfo(g, tuple(sorted(m))) for g, m in groups.items()},
        tuple(SpaceReview(key, key, "exact", tuple(Grant(k, w, r, ROLES[r]) for k, w, r in gs))
              for key, gs in sorted(spaces.items())),
    )


@settings(max_examples=60, deadline=None)
@given(sites)
def test_a_review_diffed_with_itself_is_empty(site) -> None:  # type: ignore[no-untyped-def]
    review = _review(site)
    assert diff_reviews(review, review).changes == ()


@settings(max_examples=60, deadline=None)
@given(sites, sites)
def test_the_diff_is_symmetric_and_names_exactly_the_changed_pairs(old, new) -> None:  # type: ignore[no-untyped-def]
    a, b = _review(old), _review(new)
    forward, backward = diff_reviews(a, b), diff_reviews(b, a)
    assert {(c.space, c.ref, c.before, c.after) for c in forward.changes} == {
        (c.space, c.ref, c.after, c.before) for c in backward.changes
    }

    def access(review: Review) -> dict[tuple[str, str], frozenset[str]]:
        return {(s.key, x.person.ref): x.permissions for s in review.spaces for x in review.people_in(s)}

    before, after = access(a), access(b)
    none: frozenset[str] = frozenset()
    changed = {k for k in before.keys() | after.keys() if before.get(k, none) != after.get(k, none)}
    assert {(c.space, c.ref) for c in forward.changes if not c.ref.startswith("class:")} == changed
