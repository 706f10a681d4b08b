"""Two nested values in, a short ordered description of what differs out (reconciler.plan.structdiff)."""

from __future__ import annotations

from enum import Enum

from reconciler.plan.structdiff import Field, changed_keys, describe, differences, keyed

ROLE = (Field("permissions"), Field("description", values=False))


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


def test_a_set_names_what_the_live_side_adds_and_lacks_sorted() -> None:
    site = {"permissions": frozenset({"read/space", "delete/page", "archive/page"})}
    policy = {"permissions": frozenset({"read/space", "create/blogpost"})}
    assert describe(site, policy, ROLE) == "the site adds archive/page, delete/page, lacks create/blogpost"


def test_free_text_says_only_that_it_differs_and_a_scalar_says_both_values() -> None:
    fields = (Field("description", values=False), Field("effect"))
    site = {"description": "Reviews\nlegal pages", "effect": Colour.RED}
    policy = {"description": "Reviews legal pages", "effect": Colour.BLUE}
    assert differences(site, policy, fields) == ["description differs", "effect is red, policy says blue"]


def test_clauses_follow_the_order_of_the_fields_and_use_their_words_and_side() -> None:
    fields = (Field("spaces", gained="also covers", lost="does not cover"), Field("effect"))
    site = {"effect": "allow", "spaces": ("HR", "FIN")}
    policy = {"effect": "block", "spaces": ["LEGAL", "HR"]}
    assert describe(site, policy, fields, side="the org") == (
        "the org also covers FIN, does not cover LEGAL; effect is allow, policy says block"
    )


def test_equal_documents_have_no_description_whatever_the_order_of_their_lists() -> None:
    fields = (Field("spaces"), Field("effect"))
    site, policy = {"spaces": ("A", "B"), "effect": "x"}, {"spaces": ["B", "A"], "effect": "x"}
    assert describe(site, policy, fields) == ""


def test_only_the_fields_named_are_compared() -> None:
    assert describe({"permissions": frozenset(), "name": "a"}, {"permissions": frozenset(), "name": "b"},
                    ROLE) == ""


def test_records_keyed_by_id_are_named_by_their_id_never_by_their_position() -> None:
    fields = (Field("rules", gained="adds rules for", lost="lacks rules for"),)
    site = {"rules": keyed([{"space": "FIN", "effect": "allow", "apps": ["a1", "a2"]},
                            {"space": "ENG", "effect": "block", "apps": []}], lambda r: r["space"])}
    policy = {"rules": keyed([{"space": "HR", "effect": "block", "apps": []},
                              {"space": "FIN", "effect": "block", "apps": ["a1"]}], lambda r: r["space"])}
    assert differences(site, policy, fields) == [
        "the site adds rules for ENG, lacks rules for HR",
        "rules FIN apps: the site adds a2",
        "rules FIN: effect is allow, policy says block",
    ]


def test_where_a_fact_was_declared_is_not_a_difference_at_any_depth() -> None:
    fields = (Field("rules"),)
    site = {"rules": {"FIN": {"effect": "block", "source": "a.yaml:3"}}}
    policy = {"rules": {"FIN": {"effect": "block", "source": "b.yaml:9", "declared_at": 4}}}
    assert describe(site, policy, fields) == ""


def test_changed_keys_are_the_top_level_keys_added_removed_or_changed_outside_positions() -> None:
    before = {"space A": {"role": "Viewer", "source": 1}, "space B": {"role": "Admin"}, "space C": {}}
    after = {"space A": {"role": "Viewer", "source": 2}, "space B": {"role": "Viewer"}, "space D": {}}
    assert sorted(changed_keys(before, after)) == ["space B", "space C", "space D"]
    assert changed_keys({"a": {"why": 1}}, {"a": {"why": 2}}, ignore=("why",)) == []
