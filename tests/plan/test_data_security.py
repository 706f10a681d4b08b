"""Compiling the controls into org policies, diffing them against the org, loosening, drift (pure)."""

from __future__ import annotations

from reconciler.model import ALL_APPS, CONTAINER, ORG, DsRule, UnreadPolicy
from reconciler.plan.changes import AppPolicyChange
from reconciler.plan.data_security import (
    compile_policies,
    data_security_drift,
    diff_data_security,
)
from tests.plan.data_security_builders import AI, ALLOW, BLOCK, desired, live, org_policy, override, space

EXPORT, APPS, LINKS = DsRule.EXPORT, DsRule.APP_ACCESS, DsRule.PUBLIC_LINKS


def shown(changes: list[AppPolicyChange]) -> list[tuple[str, str, str, str, str, str, str]]:
    out = []
    for change in changes:
        policy = change.policy
        out.append(
            (
                change.kind.name,
                policy.rule.value,
                policy.coverage,
                policy.subject,
                policy.effect.value,
                ",".join(policy.spaces),
                change.reason,
            )
        )
    return out


def test_each_rule_compiles_to_its_org_default_first_and_one_override_of_the_spaces_that_differ() -> None:
    policy = desired(
        {EXPORT: ALLOW, APPS: ALLOW, (APPS, AI): BLOCK},
        [
            space("FIN", {EXPORT: BLOCK, APPS: BLOCK}),
            space("HR", {APPS: BLOCK, EXPORT: ALLOW}),  # the same as the default: no override needed
            space("ENG", {(APPS, AI): ALLOW}),
        ],
    )
    assert [
        (p.rule.value, p.coverage, p.subject, p.effect.value, p.spaces, str(p.source))
        for p in compile_policies(policy)
    ] == [
        ("appAccess", ORG, ALL_APPS, "allow", (), "policies/data-security.yaml:9"),
        ("appAccess", CONTAINER, ALL_APPS, "block", ("FIN", "HR"), "policies/spaces/FIN.yaml:11"),
        ("appAccess", ORG, AI, "block", (), "policies/data-security.yaml:10"),
        ("appAccess", CONTAINER, AI, "allow", ("ENG",), "policies/spaces/ENG.yaml:10"),
        ("export", ORG, "", "allow", (), "policies/data-security.yaml:8"),
        ("export", CONTAINER, "", "block", ("FIN",), "policies/spaces/FIN.yaml:10"),
    ]


def test_an_app_named_only_in_a_space_gets_an_org_policy_with_the_all_apps_default() -> None:
    policy = desired({APPS: ALLOW}, [space("ENG", {(APPS, AI): BLOCK})])
    assert [(p.coverage, p.subject, p.effect.value, str(p.source)) for p in compile_policies(policy)] == [
        (ORG, ALL_APPS, "allow", "policies/data-security.yaml:8"),
        (ORG, AI, "allow", "policies/data-security.yaml:8"),
        (CONTAINER, AI, "block", "policies/spaces/ENG.yaml:10"),
    ]


def test_an_org_that_matches_plans_nothing_and_drafts_are_not_enforced_state() -> None:
    policy = desired({EXPORT: ALLOW}, [space("FIN", {EXPORT: BLOCK})])
    org = [
        org_policy(EXPORT, ALLOW),
        override(EXPORT, BLOCK, ["FIN"]),
        override(EXPORT, ALLOW, ["FIN"], pid="stray-draft", status="draft"),
    ]
    assert diff_data_security(policy, live(org)) == []
    missing = diff_data_security(
        policy, live([org_policy(EXPORT, ALLOW), override(EXPORT, BLOCK, ["FIN"], status="draft")])
    )
    assert shown(missing) == [("CREATE_APP_POLICY", "export", CONTAINER, "", "block", "FIN", "")]


def test_a_space_leaving_a_block_loosens_and_says_where() -> None:
    policy = desired({EXPORT: ALLOW}, [space("FIN", {EXPORT: BLOCK}), space("HR")])
    changes = diff_data_security(
        policy, live([org_policy(EXPORT, ALLOW), override(EXPORT, BLOCK, ["FIN", "HR"])])
    )
    assert shown(changes) == [
        (
            "UPDATE_APP_POLICY",
            "export",
            CONTAINER,
            "",
            "block",
            "FIN",
            "loosens data security: export no longer blocked in HR",
        )
    ]
    assert [c.loosens for c in changes] == [True]


def test_a_stricter_change_does_not_loosen() -> None:
    policy = desired({EXPORT: ALLOW}, [space("FIN", {EXPORT: BLOCK}), space("HR", {EXPORT: BLOCK})])
    changes = diff_data_security(policy, live([org_policy(EXPORT, ALLOW), override(EXPORT, BLOCK, ["FIN"])]))
    assert shown(changes) == [("UPDATE_APP_POLICY", "export", CONTAINER, "", "block", "FIN,HR", "")]
    assert changes[0].new is not None
    assert changes[0].new.id == "ovr-export-"


def test_flipping_a_default_to_allow_loosens_org_wide_and_an_allow_override_loosens_its_spaces() -> None:
    policy = desired({LINKS: ALLOW}, [space("PUBLIC")])
    changes = diff_data_security(policy, live([org_policy(LINKS, BLOCK)]))
    assert shown(changes) == [
        (
            "UPDATE_APP_POLICY",
            "publicLinks",
            ORG,
            "",
            "allow",
            "",
            "loosens data security: public_links no longer blocked in the whole org",
        )
    ]
    opened = diff_data_security(
        desired({LINKS: BLOCK}, [space("PUBLIC", {LINKS: ALLOW})]), live([org_policy(LINKS, BLOCK)])
    )
    assert shown(opened) == [
        (
            "CREATE_APP_POLICY",
            "publicLinks",
            CONTAINER,
            "",
            "allow",
            "PUBLIC",
            "loosens data security: public_links no longer blocked in PUBLIC",
        )
    ]


def test_an_override_no_longer_needed_is_deleted_and_its_block_counts_as_loosening() -> None:
    policy = desired({EXPORT: ALLOW}, [space("FIN")])
    changes = diff_data_security(policy, live([org_policy(EXPORT, ALLOW), override(EXPORT, BLOCK, ["FIN"])]))
    assert shown(changes) == [
        (
            "DELETE_APP_POLICY",
            "export",
            CONTAINER,
            "",
            "block",
            "FIN",
            "loosens data security: export no longer blocked in FIN",
        )
    ]


def test_policies_the_files_do_not_declare_are_left_alone() -> None:
    policy = desired({EXPORT: ALLOW}, [space("FIN", {EXPORT: BLOCK})])
    org = [
        org_policy(EXPORT, ALLOW),
        override(EXPORT, BLOCK, ["FIN"]),
        org_policy(LINKS, BLOCK),  # a rule the files do not name
        override(EXPORT, BLOCK, ["HR"], coverage="WORKSPACE", pid="ws"),  # another coverage level
        org_policy(APPS, BLOCK, subject=AI),
    ]  # an app the files do not name
    assert diff_data_security(policy, live(org)) == []


def test_a_duplicate_of_a_managed_policy_is_deleted_as_a_duplicate() -> None:
    policy = desired({EXPORT: ALLOW}, [space("FIN", {EXPORT: BLOCK})])
    org = [
        org_policy(EXPORT, ALLOW),
        override(EXPORT, BLOCK, ["FIN"], pid="a"),
        override(EXPORT, BLOCK, ["FIN", "LEGAL"], pid="b"),
    ]
    assert shown(diff_data_security(policy, live(org))) == [
        (
            "DELETE_APP_POLICY",
            "export",
            CONTAINER,
            "",
            "block",
            "FIN,LEGAL",
            ("loosens data security: export no longer blocked in LEGAL; duplicate of the managed CONTAINER "
             "policy of export"),
        )
    ]


def test_a_policy_the_wire_module_does_not_understand_leaves_its_rules_out() -> None:
    policy = desired({EXPORT: ALLOW, LINKS: BLOCK}, [space("FIN", {EXPORT: BLOCK})])
    unread = UnreadPolicy("p-9", "Old", ("export", "publicLinks"), "holds 2 rules")
    changes = diff_data_security(policy, live([], unread=[unread]))
    assert changes == []  # neither created nor deleted from a read it could not make sense of


def test_drift_tells_a_hand_edit_from_the_org_side() -> None:
    policy = desired({EXPORT: ALLOW}, [space("FIN", {EXPORT: BLOCK}), space("HR")])
    org = [
        org_policy(EXPORT, ALLOW),
        override(EXPORT, BLOCK, ["HR"]),
        override(LINKS, BLOCK, ["FIN"], coverage="WORKSPACE", pid="ws"),
    ]
    items = [(i.kind, i.name, i.detail, i.counts) for i in data_security_drift(policy, live(org))]
    assert items == [
        ("changed", "export (CONTAINER)",
         "policy 'export override': the org also covers HR, does not cover FIN", True),
        (
            "unmanaged",
            "publicLinks override",
            "not managed by this policy; public_links block (WORKSPACE)",
            False,
        ),
    ]
