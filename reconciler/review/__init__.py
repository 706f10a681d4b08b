"""The access review (issue 17): who can see, edit or administer each managed space, and through what.

Pure: no HTTP, no ``confluence`` imports. ``build.py`` turns the policy, the live state and the group
members into a :class:`~reconciler.review.model.Review`; ``questions.py`` answers the reviewer's questions;
``jsonform.py`` saves and loads reviews; ``diff.py`` compares two saved reviews.
"""

from reconciler.review.build import build_review, groups_to_read, only_people
from reconciler.review.diff import ReviewDiff, diff_reviews
from reconciler.review.jsonform import dumps, from_json, to_json
from reconciler.review.model import (
    Grant,
    GroupInfo,
    PersonAccess,
    PersonInfo,
    Review,
    SpaceReview,
    person_ref,
)

__all__ = [
    "Grant",
    "GroupInfo",
    "PersonAccess",
    "PersonInfo",
    "Review",
    "ReviewDiff",
    "SpaceReview",
    "build_review",
    "diff_reviews",
    "dumps",
    "from_json",
    "groups_to_read",
    "only_people",
    "person_ref",
    "to_json",
]
