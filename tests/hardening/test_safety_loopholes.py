"""Safety without loopholes (issue 14 §3): one admin definition for validate and plan; a guest never reaches
a role above guests.max_role through a group; a role plus grants for one principal in one space is a
validation error; --space on a space the whole plan leaves alone plans nothing."""
# ruff: noqa: E501 - expected messages are compared whole

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.errors import PolicyError
from reconciler.live_state import LiveRole
from reconciler.model import RoleDef, Source
from reconciler.plan.diff import plan_from_effective
from reconciler.plan.safety import check_plan
from reconciler.policy.loader import load_policy_with_warnings
from reconciler.sandbox.store import open_site
from tests.plan.factory import desired, live, live_space, space
from tests.policy.conftest import write_policy

from .conftest import POLICIES

TODAY = dt.date(2026, 11, 23)
REFUSE = "apply refuses this plan without --allow-unsafe"
OWNER = RoleDef("Space Owner", "Runs the space", frozenset({"administer/space", "read/space"}),
                Source("policies/roles.yaml", 2))
OWNER_LIVE = LiveRole("r-owner", "Space Owner", "CUSTOM", "Runs the space", OWNER.permissions)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _problems(root: str = "p") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy_with_warnings(root, today=TODAY)
    return [str(problem) for problem in caught.value.problems]


# ------------------------------------------------------------------------------------------ one "admin"

def test_validate_leaves_the_actor_out_of_the_admin_count_like_plan(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"spaces/ENG.yaml": "spaces:\n  ENG:\n    assign:\n      user:bot: Admin\n      group:eng: Viewer\n"})
    assert _problems() == [
        "p/spaces/ENG.yaml:2:3: spaces: space 'ENG' has 0 admin(s) besides the actor under exact authority, fewer than safety.min_admins_per_space (1)",
    ]


def test_validate_counts_a_custom_role_with_administer_space_as_an_admin(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {
        "roles.yaml": "roles:\n  Space Owner:\n    description: Runs the space\n    permissions: [read/space, administer/space]\n",
        "spaces/ENG.yaml": "spaces:\n  ENG:\n    assign:\n      user:bot: Admin\n      group:owners: Space Owner\n"})
    desired_state, warnings = load_policy_with_warnings("p", today=TODAY)
    assert "ENG" in desired_state.spaces
    assert warnings == []


def test_plan_counts_a_custom_role_with_administer_space_as_an_admin() -> None:
    state = desired(roles={"Space Owner": OWNER})
    site = live(live_space(assign={"user:svc": "Admin", "group:owners": "Space Owner"}), roles={"Space Owner": OWNER_LIVE})
    plan = plan_from_effective(state, site, {"ENG": space(assign={"user:svc": "Admin"})})
    assert [f"{f.check.value}: {f.message}" for f in check_plan(plan, state, site)] == [
        f"min_admins: space ENG: 0 admin(s) besides the actor after this plan (down from 1), fewer than safety.min_admins_per_space 1 ({REFUSE})",
    ]


# ------------------------------------------------------------------------------------- role and grants

def test_a_role_and_individual_permissions_for_one_principal_in_one_space_is_a_validation_error(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {
        "defaults.yaml": "defaults:\n  - name: base\n    spaces: {keys: ['*']}\n    assign:\n      group:ops: Viewer\n",
        "spaces/ENG.yaml": ("spaces:\n  ENG:\n    assign:\n      group:admins: Admin\n      group:eng: Viewer\n"
                            "    grants:\n      group:eng: [read/space, create/page]\n      group:ops: [read/space]\n"
                            "      group:other: [read/space]\n")})
    rule = ("a principal holds a role or individual permissions in a space, not both (the site replaces the "
            "permissions when the role is assigned, so apply would never converge): keep one, or set the role to none")
    assert _problems() == [
        f"p/spaces/ENG.yaml:7:7: spaces.ENG.grants: group:eng also gets the role Viewer in ENG from p/spaces/ENG.yaml:5:7; {rule}",
        f"p/spaces/ENG.yaml:8:7: spaces.ENG.grants: group:ops also gets the role Viewer in ENG from defaults rule 'base' (p/defaults.yaml:5:7); {rule}",
    ]


def test_grants_with_the_role_set_to_none_are_fine(in_tmp: Path) -> None:
    write_policy(in_tmp / "p", {"spaces/ENG.yaml": (
        "spaces:\n  ENG:\n    assign:\n      group:admins: Admin\n      group:eng: none\n"
        "    grants:\n      group:eng: [read/space, create/page]\n")})
    _desired, warnings = load_policy_with_warnings("p", today=TODAY)
    assert warnings == []


# ----------------------------------------------------------------------------------- sandbox scenarios

def _plan_json(policies: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, object], str]:
    capsys.readouterr()
    code = main(["plan", str(policies), "--format", "json", "--no-progress", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), err


def test_space_on_an_archived_space_matched_only_by_a_selector_plans_nothing(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, whole, _ = _plan_json(POLICIES, capsys)
    assert code == 0
    assert "INTRANET" not in [s["key"] for s in whole["spaces"]]  # type: ignore[index, union-attr]
    code, _plan, err = _plan_json(POLICIES, capsys, "--space", "INTRANET")
    assert (code, err) == (1, "error: --space INTRANET: the policy does not manage this space (it is archived and only a defaults selector matches it; the whole plan leaves it alone); nothing was planned\n")


def test_a_guest_in_a_group_the_policy_gives_more_than_max_role_blocks_the_plan(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = sandbox / "policies"
    shutil.copytree(POLICIES, policies)
    code, before, _ = _plan_json(policies, capsys)  # creates the demo site
    assert (code, before["findings"]) == (0, [])
    site = open_site("demo", sandbox / "sandbox")
    with site.writing() as state:
        engineering = next(g for g in state.groups.values() if g.name == "engineering")
        engineering.members.append("5b10a2844c20165700ede21a")  # gina, a guest (policies/people.yaml)
    code, after, err = _plan_json(policies, capsys)
    assert code == 1
    assert [f["message"] for f in after["findings"]] == [  # type: ignore[index, union-attr]
        f"space ENG: group 'engineering' would hold Collaborator, and its members include guest(s) gina, who may hold at most Viewer (guests.max_role); give the group a lower role or take the guests out of it ({REFUSE})",
    ]
    assert err.startswith("error: the plan fails 1 safety check(s)")
