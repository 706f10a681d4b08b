"""Diffing compiled app access policies against the org's: create, update, delete, delete-then-create."""

from __future__ import annotations

from reconciler.model import AppBlockMode, AppPolicy, Source
from reconciler.plan.app_access import app_policy_drift, diff_app_policies
from reconciler.plan.changes import AppPolicyChange, Change, ordered
from tests.app_access.builders import desired, keys, live, policy, rule

CONFIDENTIAL = rule("Confidential spaces", ["FIN", "LEGAL"])


def summary(changes: list[AppPolicyChange]) -> list[tuple[str, str, str]]:
    return [(c.kind.name, c.policy.name, c.reason) for c in app_changes(changes)]


def app_changes(changes: list[AppPolicyChange]) -> list[AppPolicyChange]:
    ordered_changes: list[Change] = list(ordered(changes))
    return [c for c in ordered_changes if isinstance(c, AppPolicyChange)]


def test_missing_policy_is_created_from_the_rule() -> None:
    changes = diff_app_policies(desired([CONFIDENTIAL], blocked=["HR"]), live([]))
    assert summary(changes) == [
        ("CREATE_APP_POLICY", "Confidential spaces", "blocks apps in FIN, HR, LEGAL"),
    ]
    assert changes[0].source == Source("policies/app-access.yaml", 5, 7)
    assert changes[0].new is not None
    assert changes[0].new.id is None


def test_matching_policy_gives_no_change() -> None:
    state = desired([CONFIDENTIAL], blocked=["HR"])
    assert diff_app_policies(state, live([policy("Confidential spaces", ["FIN", "HR", "LEGAL"])])) == []


def test_space_moved_to_apps_blocked_updates_the_policy_from_the_space_file() -> None:
    state = desired([CONFIDENTIAL], blocked=["HR", "ENG"])
    changes = diff_app_policies(state, live([policy("Confidential spaces", ["FIN", "HR", "LEGAL"], id="p1")]))
    assert summary(changes) == [("UPDATE_APP_POLICY", "Confidential spaces", "blocks apps in ENG")]
    assert changes[0].source == Source("policies/spaces/ENG.yaml", 3, 3)
    assert changes[0].new is not None
    assert changes[0].new.id == "p1"
    assert not changes[0].loosens


def test_unblocking_a_space_is_flagged_as_loosening_access() -> None:
    changes = diff_app_policies(desired([CONFIDENTIAL]), live([policy("Confidential spaces",
                                                                      ["FIN", "HR", "LEGAL"])]))
    assert summary(changes) == [
        ("UPDATE_APP_POLICY", "Confidential spaces", "loosens app access: unblocks HR"),
    ]
    assert changes[0].loosens


def test_rule_removed_with_empty_spaces_deletes_its_policy_and_loosens_access() -> None:
    state = desired([rule("Confidential spaces", [])])
    changes = diff_app_policies(state, live([policy("Confidential spaces", ["FIN"])]))
    assert summary(changes) == [
        ("DELETE_APP_POLICY", "Confidential spaces",
         "loosens app access: no longer in policy; apps regain access to FIN"),
    ]
    assert changes[0].loosens


def test_policies_the_tool_does_not_manage_are_never_deleted() -> None:
    others = [policy("Set up by hand", ["FIN"]), policy("Confidential spaces archive (1/2)", ["X"])]
    assert diff_app_policies(desired([CONFIDENTIAL]), live([policy("Confidential spaces", ["FIN", "LEGAL"]),
                                                             *others])) == []


def test_coverage_level_change_is_delete_then_create() -> None:
    changes = diff_app_policies(desired([CONFIDENTIAL]), live([policy("Confidential spaces", ["FIN", "LEGAL"],
                                                                      coverage="WORKSPACE", id="old")]))
    why = ("coverage level WORKSPACE cannot change to CONTAINER: deleted, then created again (apps can "
           "reach FIN, LEGAL between the two writes)")
    assert summary(changes) == [
        ("DELETE_APP_POLICY", "Confidential spaces", why),
        ("CREATE_APP_POLICY", "Confidential spaces", why),
    ]
    assert app_changes(changes)[0].existing.id == "old"  # type: ignore[union-attr]
    assert app_changes(changes)[1].new.id is None  # type: ignore[union-attr]


def test_blank_coverage_level_is_set_by_an_update() -> None:
    changes = diff_app_policies(desired([CONFIDENTIAL]), live([policy("Confidential spaces", ["FIN", "LEGAL"],
                                                                      coverage="")]))
    assert summary(changes) == [
        ("UPDATE_APP_POLICY", "Confidential spaces", "coverage level set to CONTAINER"),
    ]


def test_rule_mode_changes_tell_whether_they_loosen() -> None:
    tighter = desired([rule("R", ["A"], mode=AppBlockMode.ALL)])
    looser = desired([rule("R", ["A"], mode=AppBlockMode.ONLY, apps=["ai"])])
    live_only = live([policy("R", ["A"], mode=AppBlockMode.ONLY, apps=["ai", "bot"])])
    assert summary(diff_app_policies(tighter, live_only)) == [
        ("UPDATE_APP_POLICY", "R", "rule: block only ai, bot -> block all apps")]
    assert summary(diff_app_policies(looser, live_only)) == [
        ("UPDATE_APP_POLICY", "R", "loosens app access: rule: block only ai, bot -> block only ai")]


def test_sixteenth_space_renames_the_policy_and_creates_a_second_one() -> None:
    state = desired([rule("Confidential spaces", keys(15))], blocked=["ZZZ"])
    changes = diff_app_policies(state, live([policy("Confidential spaces", keys(15), id="p1")]))
    assert summary(changes) == [
        ("CREATE_APP_POLICY", "Confidential spaces (2/2)", "blocks apps in ZZZ"),
        ("UPDATE_APP_POLICY", "Confidential spaces (1/2)", "renamed from 'Confidential spaces'"),
    ]


def test_a_second_policy_claiming_the_same_part_is_deleted_as_duplicate() -> None:
    live_state = live([policy("Confidential spaces", ["FIN", "LEGAL"], id="a"),
                       policy("Confidential spaces", ["FIN"], id="b")])
    assert summary(diff_app_policies(desired([CONFIDENTIAL]), live_state)) == [
        ("DELETE_APP_POLICY", "Confidential spaces", "duplicate of managed policy 'Confidential spaces'"),
    ]


def test_drift_reports_a_policy_changed_by_hand_and_unmanaged_coverage() -> None:
    state = desired([CONFIDENTIAL], blocked=["HR"])
    live_state = live([policy("Confidential spaces", ["FIN", "SALES"], mode=AppBlockMode.ONLY, apps=["ai"]),
                       policy("By hand", ["HR"])])
    items = [(i.kind, i.name, i.spaces, i.detail, i.counts) for i in app_policy_drift(state, live_state)]
    assert items == [
        ("unmanaged", "By hand", ("HR",), "not managed by this policy; also block all apps in HR", False),
        ("changed", "Confidential spaces", ("FIN", "HR", "LEGAL", "SALES"),
         ("does not cover HR, LEGAL; also covers SALES; rule is 'block only ai', "
         "policy says 'block all apps'"), True),
    ]


def test_drift_reports_a_coverage_change_once() -> None:
    live_state = live([policy("Confidential spaces", ["FIN", "LEGAL"], coverage="WORKSPACE")])
    items = app_policy_drift(desired([CONFIDENTIAL]), live_state)
    assert [(i.kind, i.name) for i in items] == [("coverage", "Confidential spaces")]
    assert isinstance(items[0].desired, AppPolicy)
    assert items[0].desired.coverage == "CONTAINER"


def test_drift_is_empty_when_app_access_is_not_in_scope() -> None:
    assert app_policy_drift(desired([CONFIDENTIAL]), live(None)) == []


def test_a_middle_part_emptied_is_deleted_and_the_last_renamed_without_moving_spaces() -> None:
    parts = [policy(f"Big ({n}/3)", keys(45)[15 * (n - 1):15 * n], id=f"p{n}") for n in (1, 2, 3)]
    wanted = keys(45)[:15] + keys(45)[30:]
    changes = diff_app_policies(desired([rule("Big", wanted)]), live(parts))
    assert summary(changes) == [
        ("DELETE_APP_POLICY", "Big (2/3)", "loosens app access: no longer in policy; apps regain access to "
                                           + ", ".join(keys(45)[15:30])),
        ("UPDATE_APP_POLICY", "Big (1/2)", "renamed from 'Big (1/3)'"),
        ("UPDATE_APP_POLICY", "Big (2/2)", "renamed from 'Big (3/3)'"),
    ]
    assert [c.new.id for c in app_changes(changes)[1:]] == ["p1", "p3"]  # type: ignore[union-attr]


def test_spaces_moved_out_of_an_overfull_part_do_not_loosen_access() -> None:
    changes = diff_app_policies(desired([rule("Big", keys(17))]), live([policy("Big", keys(17), id="p1")]))
    assert summary(changes) == [
        ("CREATE_APP_POLICY", "Big (2/2)", "blocks apps in S16, S17"),
        ("UPDATE_APP_POLICY", "Big (1/2)", "moves S16, S17 to another part; renamed from 'Big'"),
    ]
    assert not any(c.loosens for c in changes)
