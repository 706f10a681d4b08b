"""Role proposals for principals on custom access: exact match, nearest match, new custom roles, the limit."""

from __future__ import annotations

from reconciler.drift.migrate import CustomAccess, NewRole, ProposalKind, RoleProposal, propose_roles
from reconciler.model import Principal, PrincipalKind
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS

ROLES = dict(DEFAULT_ROLE_PERMISSIONS)
READ_COMMENT = frozenset({"read/space", "create/comment"})
READ_PAGE = frozenset({"read/space", "create/page"})


def group(name: str) -> Principal:
    return Principal(PrincipalKind.GROUP, name)


def test_a_permission_set_equal_to_a_default_role_proposes_that_role() -> None:
    plan = propose_roles([CustomAccess("OPS", group("contractors"), READ_COMMENT)], ROLES)
    assert plan.proposals == (
        RoleProposal("OPS", group("contractors"), ("create/comment", "read/space"), ProposalKind.EXACT,
                     "Viewer"),
    )
    assert plan.new_roles == ()


def test_a_permission_set_equal_to_a_custom_role_proposes_the_custom_role() -> None:
    perms = READ_COMMENT | {"export/space"}
    roles = {**ROLES, "Legal Reviewer": perms}
    plan = propose_roles([CustomAccess("LEGAL", group("auditors"), perms)], roles)
    assert [(p.kind, p.role) for p in plan.proposals] == [(ProposalKind.EXACT, "Legal Reviewer")]
    assert plan.existing_custom == 1


def test_a_default_role_wins_over_a_custom_role_with_the_same_permissions() -> None:
    roles = {**ROLES, "Reader": READ_COMMENT}
    plan = propose_roles([CustomAccess("OPS", group("g"), READ_COMMENT)], roles)
    assert plan.proposals[0].role == "Viewer"


def test_an_unshared_set_gets_the_nearest_role_with_permissions_gained_and_lost() -> None:
    perms = READ_COMMENT | {"create/page"}
    plan = propose_roles([CustomAccess("OPS", group("writers"), perms)], ROLES)
    assert plan.proposals == (
        RoleProposal("OPS", group("writers"), ("create/comment", "create/page", "read/space"),
                     ProposalKind.NEAREST, "Viewer", gained=(), lost=("create/page",)),
    )


def test_nearest_prefers_the_role_that_loses_fewer_permissions_on_a_tie() -> None:
    # distance 1 to Viewer (loses create/blogpost) and 1 to a custom role (gains export/space)
    perms = READ_COMMENT | {"create/blogpost"}
    roles = {**ROLES, "Blogger": perms | {"export/space"}}
    plan = propose_roles([CustomAccess("OPS", group("g"), perms)], roles)
    assert (plan.proposals[0].role, plan.proposals[0].gained, plan.proposals[0].lost) == (
        "Blogger", ("export/space",), ()
    )


def test_a_set_shared_by_several_principals_is_proposed_as_a_new_custom_role() -> None:
    accesses = [CustomAccess("OPS", group("a"), READ_PAGE), CustomAccess("DOCS", group("b"), READ_PAGE),
                CustomAccess("OPS", group("c"), READ_COMMENT)]
    plan = propose_roles(accesses, ROLES)
    assert plan.new_roles == (NewRole("Custom access role 1", ("create/page", "read/space"), 2),)
    assert [(p.space, p.principal.id, p.kind, p.role) for p in plan.proposals] == [
        ("DOCS", "b", ProposalKind.NEW_ROLE, "Custom access role 1"),
        ("OPS", "a", ProposalKind.NEW_ROLE, "Custom access role 1"),
        ("OPS", "c", ProposalKind.EXACT, "Viewer"),
    ]
    assert plan.new_roles[0].description == "Proposed from custom access: held by 2 principals"
    assert not plan.limit_reached


def test_new_role_names_skip_names_already_taken() -> None:
    roles = {**ROLES, "Custom access role 1": frozenset({"read/space", "export/space"})}
    accesses = [CustomAccess("OPS", group(g), READ_PAGE) for g in ("a", "b")]
    assert propose_roles(accesses, roles).new_roles[0].name == "Custom access role 2"


def test_no_new_role_is_proposed_when_the_custom_role_limit_is_reached() -> None:
    roles = {**ROLES, **{f"Role {n}": frozenset({"read/space", f"p{n}/space"}) for n in range(10)}}
    accesses = [CustomAccess("OPS", group(g), READ_PAGE) for g in ("a", "b")]
    plan = propose_roles(accesses, roles, custom_role_limit=10)
    assert plan.new_roles == ()
    assert plan.left_out == (("create/page", "read/space"),)
    assert plan.limit_reached
    assert [(p.kind, p.role, p.gained, p.lost) for p in plan.proposals] == [
        (ProposalKind.NEAREST, "Viewer", ("create/comment",), ("create/page",)),
    ] * 2


def test_the_most_shared_sets_take_the_last_free_custom_role_slots() -> None:
    roles = {**ROLES, **{f"Role {n}": frozenset({"read/space", f"p{n}/space"}) for n in range(9)}}
    big = READ_PAGE | {"create/blogpost"}
    accesses = [CustomAccess("OPS", group(g), READ_PAGE) for g in ("a", "b")] + [
        CustomAccess("OPS", group(g), big) for g in ("c", "d", "e")
    ]
    plan = propose_roles(accesses, roles, custom_role_limit=10)
    assert plan.new_roles == (NewRole("Custom access role 1", tuple(sorted(big)), 3),)
    assert plan.left_out == (("create/page", "read/space"),)
    assert plan.limit_reached
    assert plan.counts()[ProposalKind.NEW_ROLE] == 3
