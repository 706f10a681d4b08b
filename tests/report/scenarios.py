"""Plans to render, built by hand so the golden files do not depend on the diff or the policy loader."""

from __future__ import annotations

from reconciler.model import (
    CONTAINER,
    Authority,
    DataSecurityPolicy,
    DsRule,
    Effect,
    Principal,
    PrincipalKind,
    RoleDef,
    Source,
)
from reconciler.plan.changes import (
    ACCESS_CHANGES,
    AppPolicyChange,
    AssignmentChange,
    ChangeKind,
    GrantChange,
    Replacement,
    RoleChange,
    SiteRole,
    ordered,
)
from reconciler.plan.plan import Plan, PlannedSpace, SafetyCheck, SafetyFinding

K = ChangeKind
ALICE = Principal(PrincipalKind.USER, "5b10ac8d82e05b22cc7d4ef5", "alice")
SVC = Principal(PrincipalKind.USER, "712020:5f0c", "svc-reconciler")
ENGINEERING = Principal(PrincipalKind.GROUP, "engineering")
ADMINS = Principal(PrincipalKind.GROUP, "confluence-administrators")
ANON = Principal(PrincipalKind.CLASS, "anonymous-users")
GHOST = Principal(PrincipalKind.GROUP, "9f3c-0001", unknown=True)


def src(file: str, line: int) -> Source:
    return Source(f"policies/{file}", line, 7)


def _space(key: str, authority: Authority, *, declared: bool = True) -> PlannedSpace:
    return PlannedSpace(
        key,
        f"9830{len(key)}",
        authority,
        src(f"spaces/{key}.yaml", 3) if declared else None,
        ("admins-everywhere", "staff-can-read"),
    )


SPACES = (
    _space("DOCS", Authority.ADDITIVE),
    _space("ENG", Authority.EXACT),
    _space("FIN", Authority.EXACT),
    _space("OPS", Authority.EXACT),
    _space("TEAM", Authority.ADDITIVE, declared=False),
)

REVIEWER = RoleDef(
    "Legal Reviewer",
    "Reads everything and comments on drafts",
    frozenset({"read/space", "create/comment", "export/space"}),
    src("roles.yaml", 4),
)
RELEASE = RoleDef(
    "Release Manager",
    "Publishes release notes",
    frozenset({"read/space", "create/page"}),
    src("roles.yaml", 8),
)
CONFIDENTIAL = DataSecurityPolicy(
    DsRule.EXPORT, Effect.BLOCK, CONTAINER, "", ("ENG", "FIN"), "export: spaces override",
    source=src("spaces/FIN.yaml", 11),
)

CHANGES = (
    RoleChange(RELEASE, source=RELEASE.source),
    RoleChange(
        REVIEWER,
        SiteRole(RoleDef("Legal Reviewer", "old", frozenset({"read/space", "delete/page"})), "r-1"),
        source=REVIEWER.source,
    ),
    RoleChange(
        existing=SiteRole(RoleDef("Old Auditor", "", frozenset({"read/space"})), "r-2"),
        source=src("roles.yaml", 12),
        reason="set to none in policy",
    ),
    AssignmentChange("ENG", ENGINEERING, "Collaborator", source=src("spaces/ENG.yaml", 6)),
    AssignmentChange("ENG", ALICE, "Release Manager", source=src("spaces/ENG.yaml", 8)),
    AssignmentChange("DOCS", ENGINEERING, "Collaborator", "Viewer", source=src("spaces/DOCS.yaml", 5)),
    AssignmentChange(

        "ENG",
        ANON,
        None,
        "Viewer",
        source=src("spaces/ENG.yaml", 10),
        reason="set to none in policy",
    ),
    AssignmentChange("FIN", GHOST, None, "Viewer", reason="not in policy; space is exact"),
    GrantChange(
        K.GRANT,
        "OPS",
        Principal(PrincipalKind.GROUP, "contractors"),
        permission="read/space",
        source=src("legacy.yaml", 9),
    ),
    GrantChange(
        K.REVOKE,
        "OPS",
        Principal(PrincipalKind.GROUP, "temps"),
        permission="create/page",
        permission_id=77,
        reason="not in policy; space is exact",
    ),
    AppPolicyChange(new=CONFIDENTIAL, source=CONFIDENTIAL.source),
    AppPolicyChange(
        existing=DataSecurityPolicy(DsRule.APP_ACCESS, Effect.BLOCK, CONTAINER, "all_apps", ("HR",),
                                    "Old block", id="p-9"),
        reason="loosens data security: app_access no longer blocked in HR",
        loosens=True,
    ),
)

HELD = (
    AssignmentChange(

        "ENG",
        ADMINS,
        None,
        "Admin",
        reason="kept: protected principal (safety.protected) is never removed or downgraded",
    ),
)


def demo() -> Plan:
    return Plan(
        "sandbox:demo",
        "ROLES_TRANSITION",
        "sha256:" + "ab" * 32,
        "sha256:" + "cd" * 32,
        SPACES,
        ordered(CHANGES),
        live_assignments=40,
        held=HELD,
    )


def unsafe() -> Plan:
    findings = (
        SafetyFinding(
            SafetyCheck.REMOVAL_FRACTION,
            "the plan removes 12 of 40 live assignments and grants in scope "
            "(30%), more than safety.max_removal_fraction 25% (apply refuses this plan without "
            "--allow-unsafe)",
        ),
        SafetyFinding(
            SafetyCheck.ACTOR_ADMIN,
            "space FIN: the actor user:svc-reconciler would not hold Admin after "
            "this plan, so the tool could no longer manage the space; assign it Admin in the policy "
            "(apply refuses this plan without --allow-unsafe)",
            "FIN",
        ),
    )
    return Plan(
        "sandbox:demo",
        "ROLES",
        "sha256:" + "ab" * 32,
        "sha256:" + "cd" * 32,
        SPACES[1:3],
        ordered([c for c in CHANGES if isinstance(c, ACCESS_CHANGES) and c.space in ("ENG", "FIN")]),
        findings,
        40,
        scope=("ENG", "FIN"),
        notes=("app access policies not planned: a --space plan leaves site-wide app policies out",),
    )


def no_changes() -> Plan:
    return Plan(
        "https://acme.atlassian.net", "ROLES", "sha256:" + "ab" * 32, "sha256:" + "cd" * 32, SPACES, ()
    )


def huge(spaces: int = 2_000, per_space: int = 50) -> Plan:
    """A plan of spaces x per_space changes (half assigns, half removals), for size and speed checks."""
    planned, changes = [], []
    for s in range(spaces):
        key = f"S{s:05d}"
        planned.append(PlannedSpace(key, str(s), Authority.EXACT, src(f"spaces/{key}.yaml", 3)))
        for i in range(per_space):
            who = Principal(PrincipalKind.USER, f"acct-{s:05d}-{i:03d}")
            if i % 2:
                changes.append(
                    AssignmentChange(key, who, None, "Viewer", reason="not in policy; space is exact")
                )
            else:
                changes.append(
                    AssignmentChange(key, who, "Collaborator", source=src(f"spaces/{key}.yaml", 5 + i))
                )
    return Plan(
        "sandbox:big",
        "ROLES",
        "sha256:" + "ab" * 32,
        "sha256:" + "cd" * 32,
        tuple(planned),
        ordered(changes),
        live_assignments=spaces * per_space,
    )


TEMPS = Principal(PrincipalKind.GROUP, "temps")
OPS_GROUP = Principal(PrincipalKind.GROUP, "ops")
UNKNOWN_REASON = "unknown principal: the site could not name it; remove it by hand or name it in the policy"


def transition() -> Plan:
    """A transition site: roles replacing individual permissions, one read/space revoke, kept removals."""
    changes = (
        AssignmentChange("OPS", OPS_GROUP, "Viewer", source=src("spaces/OPS.yaml", 6),
                         replaces=Replacement.of(["administer/space", "create/page", "read/space"],
                                                 ["administer/space", "create/page"]),
                         reason=("replaces individual permissions administer/space, create/page, read/space; "
                                 "loses administer/space, create/page")),
        AssignmentChange("OPS", ENGINEERING, "Collaborator", replaces=Replacement.of(["read/space"], []),
                         source=src("spaces/OPS.yaml", 7),
                         reason="replaces individual permissions read/space; the role includes them all"),
        GrantChange(K.REVOKE, "OPS", TEMPS, permission="read/space", permission_id=78,
                    reason="not in policy; space is exact"),
    )
    held = (
        AssignmentChange("OPS", ADMINS, "Viewer", source=src("spaces/OPS.yaml", 8),
                         replaces=Replacement.of(["administer/space", "read/space"], ["administer/space"]),
                         reason=("kept: protected principal (safety.protected) is never removed or "
                                 "downgraded; replaces individual permissions administer/space, read/space; "
                                 "loses administer/space")),
        AssignmentChange("OPS", GHOST, None, "Viewer", reason=UNKNOWN_REASON),
    )
    return Plan(
        "sandbox:demo",
        "ROLES_TRANSITION",
        "sha256:" + "ab" * 32,
        "sha256:" + "cd" * 32,
        (_space("OPS", Authority.EXACT),),
        ordered(changes),
        live_assignments=12,
        held=ordered(held),
        notes=(("space OPS: 0 admin(s) besides the actor, fewer than safety.min_admins_per_space 1; the "
                "plan does not reduce them, so this does not block it"),),
    )


SCENARIOS = {"demo": demo, "unsafe": unsafe, "no_changes": no_changes, "transition": transition}
