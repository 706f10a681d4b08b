"""Small builders for desired and live states, so plan tests read like the cases they describe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import (
    Authority,
    DesiredAssignment,
    DesiredGrant,
    DesiredState,
    EffectiveSpace,
    Principal,
    RoleDef,
    RoleMode,
    SafetySettings,
    Source,
)
from reconciler.permissions import KNOWN_PERMISSIONS
from reconciler.plan.changes import AppPolicyChange, AssignmentChange, Change, GrantChange, RoleChange
from tests.kit.state import SITE_ROLES, desired_state, live_state

ACTOR = Principal.parse_ref("user:svc")
ADMINS = Principal.parse_ref("group:confluence-administrators")
SRC = Source("policies/spaces/ENG.yaml", 7, 5)

def p(ref: str) -> Principal:
    return Principal.parse_ref(ref)


def desired(
    *,
    roles: Mapping[str, RoleDef] | None = None,
    protected: tuple[str, ...] = ("group:confluence-administrators",),
    max_removal_fraction: float = 0.25,
    min_admins: int = 1,
    deleted_roles: Mapping[str, Source] | None = None,
) -> DesiredState:
    return desired_state(
        actor=ACTOR,
        safety=SafetySettings(max_removal_fraction, min_admins, tuple(p(r) for r in protected)),
        roles=dict(roles or {}),
        digest="sha256:policy",
        deleted_roles=dict(deleted_roles or {}),
    )


def space(
    key: str = "ENG",
    authority: Authority = Authority.EXACT,
    assign: Mapping[str, str | None] | None = None,
    grants: Mapping[str, tuple[str, ...]] | None = None,
) -> EffectiveSpace:
    return EffectiveSpace(
        key=key,
        authority=authority,
        assignments={p(r): DesiredAssignment(p(r), role, SRC) for r, role in (assign or {}).items()},
        grants={p(r): DesiredGrant(p(r), frozenset(perms), SRC) for r, perms in (grants or {}).items()},
        controls=(),
        declared_at=Source(f"policies/spaces/{key}.yaml", 3),
    )


def live_space(
    key: str = "ENG",
    assign: Mapping[str, str] | None = None,
    grants: Mapping[str, tuple[str, ...]] | None = None,
    unknown: tuple[str, ...] = (),
) -> LiveSpace:
    """``unknown``: refs the site could not name (a group id whose name fetch could not find)."""
    ids = iter(range(1000, 100000))

    def who(ref: str) -> Principal:
        return replace(p(ref), unknown=True) if ref in unknown else p(ref)

    return LiveSpace(
        SpaceInfo(key, f"id-{key}", key, "global"),
        assignments={who(r): role for r, role in (assign or {}).items()},
        grants={who(r): {perm: next(ids) for perm in perms} for r, perms in (grants or {}).items()},
    )


# Groups that exist on the test site (besides those seen in its spaces), as fetch records them.
SITE_GROUPS = ("a", "b", "c", "boss", "confluence-administrators", "eng", "eng-leads", "gone", "old", "ops",
               "x")


def live(
    *spaces: LiveSpace,
    mode: RoleMode = RoleMode.ROLES,
    roles: Mapping[str, LiveRole] | None = None,
    groups: tuple[str, ...] = SITE_GROUPS,
) -> LiveState:
    seen = {who.id for s in spaces for who in [*s.assignments, *s.grants]
            if who.kind.value == "group" and not who.unknown}
    return live_state(
        *spaces,
        mode=mode,
        roles={**SITE_ROLES, **(roles or {})},
        permissions=frozenset(KNOWN_PERMISSIONS),  # the documented catalogue
        group_ids={name: f"gid-{name}" for name in sorted(seen | set(groups))},
    )


def describe(change: Change) -> str:
    """One readable line per change, for exact comparisons."""
    kind = change.kind.name.lower()
    reason = f" ({change.reason})" if change.reason else ""
    if isinstance(change, RoleChange):
        return f"{kind} {change.name}{reason}"
    if isinstance(change, AppPolicyChange):
        return f"{kind} None  ->{reason}"
    who = change.principal.ref
    if isinstance(change, GrantChange):
        what = f"{change.permission}"
    else:
        assert isinstance(change, AssignmentChange)
        what = f"{change.before or ''}->{change.role or ''}"
    return f"{kind} {change.space} {who} {what}{reason}"
