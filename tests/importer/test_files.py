"""The import writer on hand-built snapshots: legacy and roles sites, guests, custom roles, spaces without an
admin, unnamed groups; each written policy loads and plans to zero changes against the snapshot's site."""

from __future__ import annotations

from pathlib import Path

from reconciler.drift.classify import custom_access
from reconciler.drift.migrate import propose_roles
from reconciler.importer.files import SiteSnapshot, SiteUser, render_import
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import Principal, PrincipalKind, RoleMode
from reconciler.plan.changes import ChangeKind
from reconciler.plan.diff import build_plan
from reconciler.policy.loader import load_policy
from tests.kit.state import SITE_ROLES

ADMIN_ID = "5b10ac8d82e05b22cc7d4e01"
ANN_ID = "5b10ac8d82e05b22cc7d4e02"
GUEST_ID = "5b10ac8d82e05b22cc7d4e03"


def user(account: str) -> Principal:
    return Principal(PrincipalKind.USER, account)


def group(name: str) -> Principal:
    return Principal(PrincipalKind.GROUP, name)


def system_roles() -> dict[str, LiveRole]:
    return dict(SITE_ROLES)


def write(files: dict[str, str], out: Path) -> None:
    for relative, text in files.items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(text, encoding="utf-8")


def snapshot(live: LiveState) -> SiteSnapshot:
    users = {ADMIN_ID: SiteUser(ADMIN_ID, "Site Admin"), ANN_ID: SiteUser(ANN_ID, "Ann Ö'Neil"),
             GUEST_ID: SiteUser(GUEST_ID, "Gina Guest", guest=True)}
    return SiteSnapshot("sandbox:test", live, users, ADMIN_ID)


def roles_site() -> LiveState:
    reviewer = frozenset({"read/space", "create/comment", "export/space"})
    custom = LiveRole("r-lr", "Legal Reviewer", "CUSTOM", "Reads", reviewer)
    roles = {**system_roles(), "Legal Reviewer": custom}
    eng = LiveSpace(SpaceInfo("ENG", "1", "Engineering", "global"), assignments={
        user(ADMIN_ID): "Admin", group("engineering"): "Collaborator", user(GUEST_ID): "Viewer",
        Principal(PrincipalKind.CLASS, "anonymous-users"): "Viewer", user(ANN_ID): "Legal Reviewer",
    }, grants={group("contractors"): {"read/space": 11, "create/comment": 12}})
    lab = LiveSpace(SpaceInfo("LAB", "2", "Lab: tests & demos", "collaboration"),
                    assignments={group("lab"): "Collaborator"})
    return LiveState(RoleMode.ROLES_TRANSITION, roles, frozenset(), {"ENG": eng, "LAB": lab},
                     {"engineering": "g1", "contractors": "g2", "lab": "g3"})


def test_roles_site_import_loads_and_plans_to_zero_changes(tmp_path: Path) -> None:
    live = roles_site()
    write(render_import(snapshot(live)), tmp_path)
    desired = load_policy(tmp_path)
    assert sorted(desired.people) == ["ann-o-neil", "gina-guest", "site-admin"]
    assert desired.people["gina-guest"].guest
    assert desired.roles["Legal Reviewer"].permissions == live.roles["Legal Reviewer"].permissions
    assert build_plan(desired, live).changes == ()


def test_roles_site_space_file_is_exact_and_sorted(tmp_path: Path) -> None:
    files = render_import(snapshot(roles_site()))
    assert files["spaces/ENG.yaml"] == (
        "# yaml-language-server: $schema=../../schemas/policy.schema.json\n"
        "# Engineering (global), imported from sandbox:test\n"
        "spaces:\n"
        "  ENG:\n"
        "    authority: exact\n"
        "    assign:\n"
        "      class:anonymous-users: Viewer\n"
        "      group:engineering: Collaborator\n"
        "      user:ann-o-neil: Legal Reviewer\n"
        "      user:gina-guest: Viewer\n"
        "      user:site-admin: Admin\n"
        "    grants:\n"
        "      group:contractors: [create/comment, read/space]\n"
    )
    assert files["site.yaml"].endswith(
        "  actor: site-admin\n"
        "  default_authority: exact\n"
        "safety:\n"
        "  # lowered by import: no admin besides the actor on the site in ENG, LAB\n"
        "  min_admins_per_space: 0\n"
    )


def test_proposals_are_comments_only(tmp_path: Path) -> None:
    live = roles_site()
    plan = propose_roles(custom_access(live, ["ENG"]), {n: r.permissions for n, r in live.roles.items()})
    files = render_import(snapshot(live), proposals=plan)
    line = "      group:contractors: [create/comment, read/space]  # proposed role: Viewer (exact match)\n"
    assert line in files["spaces/ENG.yaml"]
    write(files, tmp_path)
    assert build_plan(load_policy(tmp_path), live).changes == ()


def test_legacy_site_import_plans_to_zero_changes_except_an_unnamed_group(tmp_path: Path) -> None:
    ops = LiveSpace(SpaceInfo("OPS", "1", "Operations", "global"), grants={
        user(ADMIN_ID): {"read/space": 1, "administer/space": 2},
        group("ops"): {"read/space": 3, "create/page": 4},
        Principal(PrincipalKind.GROUP, "9f3c-dead", unknown=True): {"read/space": 5},
    })
    live = LiveState(RoleMode.PRE_ROLES, {}, frozenset(), {"OPS": ops}, {"ops": "g1"})
    files = render_import(snapshot(live))
    assert files["roles.yaml"].endswith("roles: {}\n")
    note = "    # not imported: group:9f3c-dead cannot be named on the site (deleted?)\n"
    assert note in files["spaces/OPS.yaml"]
    write(files, tmp_path)
    plan = build_plan(load_policy(tmp_path), live)
    assert plan.changes == ()
    # the plan never revokes a principal the site cannot name: the revoke is held, shown, never applied
    assert [(c.kind, c.principal.ref if c.principal else "", c.reason) for c in plan.held] == [
        (ChangeKind.REVOKE, "group:9f3c-dead",
         "unknown principal: the site could not name it; remove it by hand or name it in the policy"),
    ]
