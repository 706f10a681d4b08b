"""Every drift class on hand-built desired and live states, with the remedies each item carries."""

from __future__ import annotations

from datetime import date

from reconciler.drift.classify import detect_drift
from reconciler.drift.findings import DriftItem, DriftKind, Remedy
from reconciler.drift.migrate import ProposalKind
from reconciler.model import Authority, Principal, PrincipalKind, RoleMode

from .builders import desired, live, space

TODAY = date(2026, 11, 23)
APPLY = Remedy("run", command="reconciler apply policies")
ENG = "policies/spaces/ENG.yaml"


def rows(items: tuple[DriftItem, ...]) -> list[tuple[str, str, str, str | None, str | None, str]]:
    return [(i.kind.name, i.space, str(i.principal), i.desired, i.live, i.detail) for i in items]


def eng(**assign: str | None) -> object:
    return space("ENG", {"group:engineering": "Collaborator", "user:alice": "Manager", **assign})


def test_matching_site_has_no_drift() -> None:
    report = detect_drift(desired(eng()),
                          live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}}),
                          today=TODAY)
    assert report.items == ()
    assert not report.has_drift
    assert report.managed == ("ENG",)


def test_assignment_added_by_hand_in_an_exact_space_is_drift_with_its_policy_line() -> None:
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager",
                         "group:contractors": "Viewer"}})
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert rows(report.items) == [
        ("ADDED", "ENG", "group:contractors", None, "Viewer",
         "assigned on the site, not in the policy (space is exact)"),
    ]
    item = report.items[0]
    assert item.adopt == Remedy("add under spaces.ENG.assign", file=ENG, where="spaces.ENG.assign",
                                yaml="group:contractors: Viewer")
    assert item.revert == APPLY
    assert report.has_drift


def test_extra_access_in_an_additive_space_is_not_drift() -> None:
    policy = desired(space("PUBLIC", {"class:anonymous-users": "Viewer"}, authority=Authority.ADDITIVE))
    site = live({"PUBLIC": {"class:anonymous-users": "Viewer", "group:marketing": "Collaborator"}})
    assert detect_drift(policy, site, today=TODAY).items == ()


def test_none_in_an_additive_space_still_reports_access_the_site_holds() -> None:
    policy = desired(space("PUBLIC", {"class:anonymous-users": None}, authority=Authority.ADDITIVE))
    site = live({"PUBLIC": {"class:anonymous-users": "Viewer"}})
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("ADDED", "PUBLIC", "class:anonymous-users", None, "Viewer",
         "set to none in the policy, but assigned on the site"),
    ]
    assert report.items[0].adopt == Remedy(
        "change line 5 to", file="policies/spaces/PUBLIC.yaml", where="spaces.PUBLIC.assign",
        yaml="class:anonymous-users: Viewer",
    )


def test_assignment_removed_by_hand_is_drift_adopted_by_deleting_its_line() -> None:
    report = detect_drift(desired(eng()), live({"ENG": {"group:engineering": "Collaborator"}}), today=TODAY)
    assert rows(report.items) == [
        ("REMOVED", "ENG", "user:alice", "Manager", None, "in the policy, not assigned on the site"),
    ]
    assert report.items[0].adopt == Remedy("delete line 6", file=ENG, where="spaces.ENG.assign",
                                           yaml="user:alice: Manager")
    assert report.items[0].source is not None
    assert str(report.items[0].source) == f"{ENG}:6"


def test_role_changed_by_hand_is_drift_adopted_by_changing_its_line() -> None:
    site = live({"ENG": {"group:engineering": "Admin", "user:alice": "Manager"}})
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert rows(report.items) == [
        ("ROLE_CHANGED", "ENG", "group:engineering", "Collaborator", "Admin",
         "the policy says Collaborator, the site has Admin"),
    ]
    assert report.items[0].adopt == Remedy("change line 5 to", file=ENG, where="spaces.ENG.assign",
                                           yaml="group:engineering: Admin")


def test_a_deleted_group_still_assigned_is_an_unknown_principal_that_cannot_be_adopted() -> None:
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}})
    ghost = Principal(PrincipalKind.GROUP, "9f3c-0001", unknown=True)
    site.spaces["ENG"].assignments[ghost] = "Viewer"  # type: ignore[index]
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert rows(report.items) == [
        ("UNKNOWN_PRINCIPAL", "ENG", "group:9f3c-0001", None, "Viewer",
         "group 9f3c-0001 cannot be resolved on the site (deleted?)"),
    ]
    assert report.items[0].adopt is None
    # the plan holds the removal of a principal the site cannot name, so apply does not revert it
    assert report.items[0].revert == Remedy(
        "unknown principal: the site could not name it; remove it by hand or name it in the policy: "
        "apply will not revert this; change it on the site by hand"
    )


def test_a_user_the_policy_does_not_list_is_an_unknown_principal() -> None:
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager",
                         "user:5b10ac8d82e05b22cc7d4eff": "Viewer"}})
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert rows(report.items) == [
        ("UNKNOWN_PRINCIPAL", "ENG", "user:5b10ac8d82e05b22cc7d4eff", None, "Viewer",
         "account 5b10ac8d82e05b22cc7d4eff is not in the policy's people"),
    ]
    assert report.items[0].adopt == Remedy("add under spaces.ENG.assign", file=ENG,
                                           where="spaces.ENG.assign",
                                           yaml="user:5b10ac8d82e05b22cc7d4eff: Viewer")


def test_a_policy_group_missing_on_the_site_is_an_unknown_principal_renamed_or_deleted() -> None:
    policy = desired(eng(**{"group:eng-old": "Viewer"}))
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}})
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("UNKNOWN_PRINCIPAL", "ENG", "group:eng-old", "Viewer", None,
         "group 'eng-old' is not on the site (deleted, or renamed)"),
    ]


def test_custom_access_in_an_exact_space_is_drift_with_a_role_proposal() -> None:
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}},
                grants={"ENG": {"group:contractors": frozenset({"read/space", "create/comment"})}},
                mode=RoleMode.ROLES_TRANSITION)
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert rows(report.items) == [
        ("CUSTOM_ACCESS", "ENG", "group:contractors", None, "[create/comment, read/space]",
         "on individual permissions (custom access), not in the policy"),
    ]
    assert report.items[0].adopt == Remedy("add under spaces.ENG.grants", file=ENG,
                                           where="spaces.ENG.grants",
                                           yaml="group:contractors: [create/comment, read/space]")
    assert report.migration is not None
    assert [(p.space, p.principal.ref, p.kind, p.role) for p in report.migration.proposals] == [
        ("ENG", "group:contractors", ProposalKind.EXACT, "Viewer"),
    ]


def test_custom_access_in_an_additive_space_is_not_drift_but_gets_a_proposal() -> None:
    policy = desired(space("DOCS", {"group:engineering": "Collaborator"}, authority=Authority.ADDITIVE))
    site = live({"DOCS": {"group:engineering": "Collaborator"}},
                grants={"DOCS": {"group:writers": frozenset({"read/space", "create/page"})}},
                mode=RoleMode.ROLES_TRANSITION)
    report = detect_drift(policy, site, today=TODAY)
    assert report.items == ()
    assert report.migration is not None
    assert [(p.kind, p.role, p.lost) for p in report.migration.proposals] == [
        (ProposalKind.NEAREST, "Viewer", ("create/page",)),
    ]


def test_legacy_site_grants_added_removed_and_changed() -> None:
    policy = desired(space("OPS", {}, grants={
        "group:ops": frozenset({"read/space", "create/page"}),
        "group:sre": frozenset({"read/space"}),
    }))
    site = live({}, grants={"OPS": {
        "group:ops": frozenset({"read/space", "create/comment"}),
        "group:temp": frozenset({"read/space"}),
    }}, mode=RoleMode.PRE_ROLES, groups=("sre",))
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("ADDED", "OPS", "group:temp", None, "[read/space]",
         "individual permissions on the site, not in the policy"),
        ("REMOVED", "OPS", "group:sre", "[read/space]", None,
         "individual permissions in the policy, not on the site"),
        ("ROLE_CHANGED", "OPS", "group:ops", "[create/page, read/space]", "[create/comment, read/space]",
         "permissions differ: site adds create/comment; site lacks create/page"),
    ]
    assert report.migration is None


def test_a_policy_space_the_site_does_not_show_is_drift() -> None:
    policy = desired(eng(), space("GONE", {"group:engineering": "Viewer"}))
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}}, missing=("GONE",))
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("SPACE_MISSING", "GONE", "None", None, None,
         "the site does not show this space: deleted, or hidden from the account the tool runs as"),
    ]
    assert report.items[0].adopt == Remedy("delete the spaces.GONE entry (line 3)",
                                           file="policies/spaces/GONE.yaml", where="spaces.GONE")
    assert report.has_drift


def test_unmanaged_spaces_are_counted_not_drift() -> None:
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}},
                unmanaged=("TEAM", "~bob"))
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert [s.key for s in report.unmanaged] == ["TEAM", "~bob"]
    assert not report.has_drift


def test_custom_role_changed_on_the_site_is_drift() -> None:
    policy = desired(eng(), roles={"Legal Reviewer": frozenset({"read/space", "create/comment"})})
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}},
                custom_roles={"Legal Reviewer": frozenset({"read/space"})})
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("ROLE_DEFINITION", "", "None", "[create/comment, read/space]", "[read/space]",
         "custom role 'Legal Reviewer': the site lacks create/comment"),
    ]
    assert report.items[0].adopt == Remedy("change role 'Legal Reviewer' at line 3 to",
                                           file="policies/roles.yaml", where="roles.Legal Reviewer",
                                           yaml="permissions: [read/space]")


def test_every_kind_has_a_distinct_label() -> None:
    assert len({k.label for k in DriftKind}) == len(DriftKind)


def test_removed_access_from_a_defaults_rule_is_adopted_by_none_in_the_space_entry() -> None:
    policy = desired(eng(), defaults={"group:all-staff": "Viewer"})
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager"}},
                groups=("all-staff",))
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("REMOVED", "ENG", "group:all-staff", "Viewer", None, "in the policy, not assigned on the site"),
    ]
    assert report.items[0].adopt == Remedy("add under spaces.ENG.assign", file=ENG, where="spaces.ENG.assign",
                                           yaml="group:all-staff: none")
    assert str(report.items[0].source) == "policies/defaults.yaml:6"


def test_access_added_in_a_space_matched_only_by_defaults_is_adopted_in_a_new_space_file() -> None:
    policy = desired(defaults={"group:all-staff": "Viewer"})  # default_authority: exact
    site = live({"TEAM": {"group:all-staff": "Viewer", "group:team": "Collaborator"}})
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("ADDED", "TEAM", "group:team", None, "Collaborator",
         "assigned on the site, not in the policy (space is exact)"),
    ]
    assert report.items[0].adopt == Remedy(
        "add under spaces.TEAM.assign (a new file)", file="policies/spaces/TEAM.yaml",
        where="spaces.TEAM.assign", yaml="group:team: Collaborator",
    )


def test_a_policy_role_held_as_custom_access_says_so() -> None:
    site = live({"ENG": {"group:engineering": "Collaborator"}},
                grants={"ENG": {"user:alice": frozenset({"read/space", "create/comment"})}},
                mode=RoleMode.ROLES_TRANSITION)
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert rows(report.items) == [
        ("REMOVED", "ENG", "user:alice", "Manager", "custom access",
         ("in the policy, not assigned on the site "
          "(it holds individual permissions instead: [create/comment, read/space])")),
    ]


def test_grants_set_to_none_but_held_on_a_legacy_site_are_added_access() -> None:
    policy = desired(space("OPS", {}, grants={"group:ops": frozenset()}))
    site = live({}, grants={"OPS": {"group:ops": frozenset({"read/space"})}}, mode=RoleMode.PRE_ROLES)
    report = detect_drift(policy, site, today=TODAY)
    assert rows(report.items) == [
        ("ADDED", "OPS", "group:ops", "none", "[read/space]",
         "set to none in the policy, but held on the site"),
    ]
    assert report.items[0].adopt == Remedy("change line 6 to", file="policies/spaces/OPS.yaml",
                                           where="spaces.OPS.grants", yaml="group:ops: [read/space]")


def test_extra_access_of_the_actor_is_drift_that_apply_will_not_revert() -> None:
    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager", "user:svc": "Admin"}})
    report = detect_drift(desired(eng()), site, today=TODAY)
    assert rows(report.items) == [
        ("ADDED", "ENG", "user:svc", None, "Admin",
         "assigned on the site, not in the policy (space is exact)"),
    ]
    assert report.items[0].revert == Remedy(
        "kept: the actor (site.actor) is never removed or downgraded: apply will not revert this; "
        "change it on the site by hand"
    )


def test_the_adopt_line_for_a_group_name_that_needs_quoting_is_valid_yaml() -> None:
    import yaml

    site = live({"ENG": {"group:engineering": "Collaborator", "user:alice": "Manager",
                         "group:ops: on-call #1": "Viewer"}})
    item = detect_drift(desired(eng()), site, today=TODAY).items[0]
    assert item.adopt == Remedy("add under spaces.ENG.assign", file=ENG, where="spaces.ENG.assign",
                                yaml="'group:ops: on-call #1': Viewer")
    assert yaml.safe_load(item.adopt.yaml or "") == {"group:ops: on-call #1": "Viewer"}
