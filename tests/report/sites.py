"""Plans of large synthetic sites, shaped like the real ones: drift spread over many spaces, safety
findings and notes in hundreds of spaces. Built by hand (no diff, no loader) so report tests are fast and
the golden files depend on the renderer alone.
"""

from __future__ import annotations

import random

from reconciler.model import Authority, Principal, PrincipalKind, Source
from reconciler.plan.changes import AssignmentChange, Change, ordered
from reconciler.plan.plan import Plan, PlannedSpace, SafetyCheck, SafetyFinding

ROLES = ("Viewer", "Collaborator", "Manager", "Admin")
PER_SPACE = 20  # live assignments per space
REFUSAL = "apply refuses this plan without --allow-unsafe"


def site_plan(changes: int, *, spaces: int | None = None, seed: int = 1) -> Plan:
    """A plan with ``changes`` changes (a third each assign, change, remove) over ``spaces`` spaces
    (default: 5% drift of 20 assignments per space, so one change per space), where about 1% of the
    spaces fail the min-admins check and 13% carry the "already short of admins" note."""
    spaces = spaces if spaces is not None else max(1, changes)
    rng = random.Random(seed)  # deterministic test data
    keys = [f"S{i:05d}" for i in range(1, spaces + 1)]
    planned = tuple(
        PlannedSpace(key, str(100_000 + i), Authority.EXACT, Source(f"policies/spaces/{key}.yaml", 3, 1))
        for i, key in enumerate(keys)
    )
    out: list[Change] = []
    for n in range(changes):
        key = keys[rng.randrange(spaces)]
        user = rng.randrange(40)
        who = (Principal(PrincipalKind.USER, f"5b10ac8d82e05b22cc7d{user:04x}", f"u{user:05d}") if user < 30
               else Principal(PrincipalKind.GROUP, f"team-{user:03d}"))
        source = Source(f"policies/spaces/{key}.yaml", 5 + rng.randrange(PER_SPACE), 5)
        role, old = rng.choice(ROLES), rng.choice(ROLES)
        if n % 3 == 0:
            out.append(AssignmentChange(key, who, role, source=source))
        elif n % 3 == 1:
            new = ROLES[(ROLES.index(old) + 1) % len(ROLES)]
            out.append(AssignmentChange(key, who, new, old, source=source))
        else:
            reason = "not in policy; space is exact"
            out.append(AssignmentChange(key, who, None, old, reason=reason))
    unique = {(c.space, c.principal): c for c in out}  # one change per principal and space
    short = [k for k in keys if rng.random() < 0.01]
    noted = [k for k in keys if rng.random() < 0.13 and k not in short]
    findings = [SafetyFinding(
        SafetyCheck.MIN_ADMINS,
        f"space {key}: 0 admin(s) besides the actor after this plan (down from 1), fewer than "
        f"safety.min_admins_per_space 1 ({REFUSAL})",
        key,
    ) for key in short]
    notes = tuple(
        f"space {key}: 0 admin(s) besides the actor, fewer than safety.min_admins_per_space 1; the plan "
        "does not reduce them, so this does not block it"
        for key in noted
    )
    return Plan(
        site="https://acme.atlassian.net",
        mode="ROLES",
        policy_digest="sha256:" + "ab" * 32,
        fingerprint="sha256:" + "cd" * 32,
        spaces=planned,
        changes=ordered(list(unique.values())),
        findings=tuple(findings),
        live_assignments=spaces * PER_SPACE,
        notes=notes,
    )
