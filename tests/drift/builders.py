"""Hand-built desired and live states for the pure drift tests (no policy files, no site)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import (
    Authority,
    DefaultRule,
    DesiredAssignment,
    DesiredGrant,
    DesiredSpace,
    DesiredState,
    DriftIgnore,
    Person,
    Principal,
    PrincipalKind,
    RoleDef,
    RoleMode,
    Source,
    SpaceSelector,
)
from reconciler.permissions import DEFAULT_ROLE_PERMISSIONS
from tests.kit.state import SITE_ROLES, desired_state, live_state

PEOPLE = {
    "svc": "acc-svc",
    "alice": "acc-alice",
    "bob": "acc-bob",
}


def principal(ref: str) -> Principal:
    """``user:<handle>`` resolves through PEOPLE (labelled); anything else is taken as written."""
    kind, _, ident = ref.partition(":")
    if kind == "user" and ident in PEOPLE:
        return Principal(PrincipalKind.USER, PEOPLE[ident], label=ident)
    return Principal(PrincipalKind(kind), ident)


def space(
    key: str,
    assign: Mapping[str, str | None],
    *,
    authority: Authority = Authority.EXACT,
    grants: Mapping[str, frozenset[str]] | None = None,
) -> DesiredSpace:
    file = f"policies/spaces/{key}.yaml"
    assignments = tuple(
        DesiredAssignment(principal(ref), role, Source(file, 5 + n, 7)) for n, ref_role in
        enumerate(assign.items()) for ref, role in [ref_role]
    )
    offset = 5 + len(assignments) + 1
    grant_list = tuple(
        DesiredGrant(principal(ref), perms, Source(file, offset + n, 7))
        for n, (ref, perms) in enumerate((grants or {}).items())
    )
    return DesiredSpace(key, authority, assignments, grant_list, False, (), Source(file, 3, 3))


def desired(
    *spaces: DesiredSpace,
    ignore: tuple[tuple[str, str, date], ...] = (),
    roles: Mapping[str, frozenset[str]] | None = None,
    custom_role_limit: int = 10,
    defaults: Mapping[str, str] | None = None,
) -> DesiredState:
    """``defaults``: one rule matching every space, principal ref -> role (from policies/defaults.yaml)."""
    people = {h: Person(h, a, False, Source("policies/people.yaml", 3 + n)) for n, (h, a) in
              enumerate(PEOPLE.items())}
    return desired_state(
        custom_role_limit=custom_role_limit,
        actor=principal("user:svc"),
        people=people,
        roles={name: RoleDef(name, "", perms, Source("policies/roles.yaml", 3 + n))
               for n, (name, perms) in enumerate((roles or {}).items())},
        defaults=(
            DefaultRule("everywhere", SpaceSelector(keys=("*",)), tuple(
                DesiredAssignment(principal(ref), role, Source("policies/defaults.yaml", 6 + n, 7))
                for n, (ref, role) in enumerate(defaults.items())
            ), Source("policies/defaults.yaml", 3, 5)),
        ) if defaults else (),
        spaces={s.key: s for s in spaces},
        drift_ignore=tuple(
            DriftIgnore(key, principal(ref), "migration", until, Source("policies/drift.yaml", 4 + n))
            for n, (key, ref, until) in enumerate(ignore)
        ),
        digest="0" * 64,
    )


def info(key: str, number: int) -> SpaceInfo:
    return SpaceInfo(key, str(1000 + number), f"{key} space", "global")


def live(
    spaces: Mapping[str, Mapping[str, str]],
    *,
    grants: Mapping[str, Mapping[str, frozenset[str]]] | None = None,
    mode: RoleMode = RoleMode.ROLES,
    missing: tuple[str, ...] = (),
    unmanaged: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    custom_roles: Mapping[str, frozenset[str]] | None = None,
) -> LiveState:
    grants = grants or {}
    keys = sorted(set(spaces) | set(grants))
    live_spaces = {}
    for n, key in enumerate(keys):
        live_spaces[key] = LiveSpace(
            info(key, n),
            assignments={principal(ref): role for ref, role in spaces.get(key, {}).items()},
            grants={principal(ref): {p: 100 + i for i, p in enumerate(sorted(perms))}
                    for ref, perms in grants.get(key, {}).items()},
        )
    seen_groups = {p.id for s in live_spaces.values() for p in [*s.assignments, *s.grants]
                   if p.kind is PrincipalKind.GROUP}
    roles = dict(SITE_ROLES)
    roles.update({name: LiveRole(f"id-{name}", name, "CUSTOM", "", perms)
                  for name, perms in (custom_roles or {}).items()})
    return live_state(
        *live_spaces.values(),
        mode=mode,
        roles=roles,
        permissions=frozenset().union(*DEFAULT_ROLE_PERMISSIONS.values()),
        group_ids={g: f"gid-{g}" for g in sorted(seen_groups | set(groups))},
        unmanaged=tuple(info(k, 50 + n) for n, k in enumerate(unmanaged)),
        missing=missing,
    )
