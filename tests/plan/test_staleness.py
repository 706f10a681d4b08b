"""What apply says changed when it refuses a stale plan: the spaces, principals, roles and controls whose
planned changes differ between the saved plan and a fresh read (deepdiff, not a hand-written walker)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from reconciler.flows.connect import Connection
from reconciler.flows.plan import run_plan
from reconciler.plan.changes import AssignmentChange, RoleChange
from reconciler.plan.staleness import what_changed


def test_a_change_that_went_away_names_its_space_and_principal(
    demo_policy: Path, demo_connection: Connection
) -> None:
    _, _, plan = run_plan(demo_policy, demo_connection)
    gone = next(c for c in plan.changes if isinstance(c, AssignmentChange))
    fresh = dataclasses.replace(plan, changes=tuple(c for c in plan.changes if c is not gone))
    assert what_changed(plan, fresh) == f"what changed: spaces {gone.space}; principals {gone.principal.ref}"


def test_a_role_whose_definition_changed_is_named(demo_policy: Path, demo_connection: Connection) -> None:
    _, _, plan = run_plan(demo_policy, demo_connection)
    role = next(c for c in plan.changes if isinstance(c, RoleChange) and c.new is not None)
    assert role.new is not None
    edited = dataclasses.replace(role, new=dataclasses.replace(role.new, description="edited on the site"))
    fresh = dataclasses.replace(plan, changes=tuple(edited if c is role else c for c in plan.changes))
    assert what_changed(plan, fresh) == f"what changed: roles {role.new.name}"


def test_where_a_change_was_declared_is_not_a_change(demo_policy: Path, demo_connection: Connection) -> None:
    _, _, plan = run_plan(demo_policy, demo_connection)
    assert what_changed(plan, plan) == ("what changed: the same changes would be planned, but the live state "
                                        f"of the {len(plan.spaces)} planned space(s) is not the one the plan "
                                        "was made from")
