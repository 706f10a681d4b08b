"""Compiling app_access rules and `apps: blocked` spaces into org policies, within the limits."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import PolicyError
from reconciler.model import AppBlockMode, AppPolicy, Source
from reconciler.plan.app_access import IMPLICIT_RULE_NAME, compile_app_policies
from tests.app_access.builders import desired, keys, policy, rule


def names_and_spaces(policies: tuple[AppPolicy, ...]) -> list[tuple[str, tuple[str, ...]]]:
    return [(p.name, p.spaces) for p in policies]


def test_blocked_spaces_join_the_first_block_all_rule() -> None:
    state = desired(
        [rule("No AI", ["SALES"], mode=AppBlockMode.ONLY, apps=["ai"]), rule("Confidential spaces", ["FIN"])],
        blocked=["HR", "ENG"],
    )
    assert names_and_spaces(compile_app_policies(state)) == [
        ("No AI", ("SALES",)),
        ("Confidential spaces", ("ENG", "FIN", "HR")),
    ]


def test_blocked_spaces_without_a_block_all_rule_form_the_implicit_policy() -> None:
    state = desired([rule("No AI", ["SALES"], mode=AppBlockMode.ONLY, apps=["ai"])], blocked=["HR"])
    compiled = compile_app_policies(state)
    assert names_and_spaces(compiled) == [("No AI", ("SALES",)), (IMPLICIT_RULE_NAME, ("HR",))]
    assert compiled[1].mode is AppBlockMode.ALL
    assert compiled[1].source == Source("policies/spaces/HR.yaml", 3, 3)


def test_compiled_policy_is_container_coverage_with_sorted_apps() -> None:
    state = desired([rule("Allow two", ["B", "A"], mode=AppBlockMode.ALL_EXCEPT, apps=["z.app", "a.app"])])
    assert compile_app_policies(state) == (
        AppPolicy("Allow two", AppBlockMode.ALL_EXCEPT, ("a.app", "z.app"), ("A", "B"), "CONTAINER",
                  source=Source("policies/app-access.yaml", 5, 7)),
    )


def test_fifteen_spaces_fit_one_policy_with_the_bare_name() -> None:
    assert names_and_spaces(compile_app_policies(desired([rule("Confidential spaces", keys(15))])))[0] == (
        "Confidential spaces", tuple(keys(15)))


def test_sixteenth_blocked_space_produces_a_second_policy() -> None:
    state = desired([rule("Confidential spaces", keys(15))], blocked=["ZZZ"])
    assert names_and_spaces(compile_app_policies(state)) == [
        ("Confidential spaces (1/2)", tuple(keys(15))),
        ("Confidential spaces (2/2)", ("ZZZ",)),
    ]


def test_split_without_live_state_chunks_in_sorted_key_order() -> None:
    state = desired([rule("Big", keys(40))])
    assert names_and_spaces(compile_app_policies(state)) == [
        ("Big (1/3)", tuple(keys(40)[:15])),
        ("Big (2/3)", tuple(keys(40)[15:30])),
        ("Big (3/3)", tuple(keys(40)[30:])),
    ]


def test_adding_one_space_does_not_reshuffle_the_live_parts() -> None:
    live = [policy("Big (1/2)", keys(30)[:15]), policy("Big (2/2)", keys(30)[15:])]
    state = desired([rule("Big", ["A00", *keys(30)])])  # sorts before every live key
    assert names_and_spaces(compile_app_policies(state, live)) == [
        ("Big (1/3)", tuple(keys(30)[:15])),
        ("Big (2/3)", tuple(keys(30)[15:])),
        ("Big (3/3)", ("A00",)),
    ]


def test_new_spaces_fill_the_hole_a_removed_space_left() -> None:
    live = [policy("Big (1/2)", keys(30)[:15]), policy("Big (2/2)", keys(30)[15:])]
    wanted = [k for k in keys(30) if k != "S03"] + ["A00"]
    assert names_and_spaces(compile_app_policies(desired([rule("Big", wanted)]), live)) == [
        ("Big (1/2)", tuple(sorted(["A00", *keys(15)[:2], *keys(15)[3:]]))),
        ("Big (2/2)", tuple(keys(30)[15:])),
    ]


def test_a_part_whose_spaces_all_left_is_dropped_and_the_rest_renumbered() -> None:
    live = [policy("Big (1/2)", keys(30)[:15]), policy("Big (2/2)", keys(30)[15:])]
    assert names_and_spaces(compile_app_policies(desired([rule("Big", keys(30)[15:])]), live)) == [
        ("Big", tuple(keys(30)[15:])),
    ]


def test_a_part_edited_by_hand_beyond_fifteen_spaces_overflows_into_a_new_part() -> None:
    live = [policy("Big", keys(17))]
    assert names_and_spaces(compile_app_policies(desired([rule("Big", keys(17))]), live)) == [
        ("Big (1/2)", tuple(keys(15))),
        ("Big (2/2)", ("S16", "S17")),
    ]


def test_twenty_apps_are_allowed() -> None:
    state = desired([rule("Twenty", ["A"], mode=AppBlockMode.ONLY, apps=[f"app{n}" for n in range(20)])])
    assert len(compile_app_policies(state)[0].apps) == 20


def test_twenty_one_apps_are_an_error_at_the_rule() -> None:
    apps = [f"app{n}" for n in range(21)]
    state = desired([rule("Too many", ["A"], mode=AppBlockMode.ALL_EXCEPT, apps=apps, line=9)])
    with pytest.raises(PolicyError) as exc:
        compile_app_policies(state)
    assert str(exc.value) == (
        "policies/app-access.yaml:9:7: app_access.rules[0].block: rule 'Too many' lists 21 apps; an app "
        "access rule lists at most 20 apps (split the list into two rules)"
    )


def test_no_app_access_section_and_no_blocked_space_compiles_to_nothing() -> None:
    assert compile_app_policies(desired(app_access=False, spaces=["ENG"])) == ()


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(1, 80), min_size=1, max_size=60), st.integers(1, 80))
def test_adding_any_one_space_changes_the_spaces_of_at_most_one_part(existing: set[int], extra: int) -> None:
    keys_before = [f"K{n:02d}" for n in sorted(existing)]
    before = compile_app_policies(desired([rule("R", keys_before)]))
    live = [replace(p, id=f"id{n}") for n, p in enumerate(before)]
    after = compile_app_policies(desired([rule("R", [*keys_before, f"K{extra:02d}"])]), live)
    assert all(len(p.spaces) <= 15 for p in after)
    changed = [i for i, p in enumerate(after) if i >= len(before) or set(p.spaces) != set(before[i].spaces)]
    assert len(changed) <= 1
    assert all(set(before[i].spaces) <= set(after[i].spaces) for i in range(len(before)))
