"""Seeds: ``demo`` (matches the example ``policies/``; see docs/sandbox.md for the intended plan) and
``synthetic:spaces=N,per_space=M,seed=S`` (deterministic, for benchmarks), each optionally followed by
``+live`` (the live vocabulary, :mod:`reconciler.sandbox.live_vocabulary`) or ``+plain`` (without it).
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.model import ALL_APPS, CONTAINER, DEFAULT_ROLES, ORG, DataSecurityPolicy, DsRule, Effect
from reconciler.permissions import DEFAULT_ROLE_DESCRIPTIONS, DEFAULT_ROLE_PERMISSIONS, KNOWN_PERMISSIONS
from reconciler.sandbox.admin_api import add_policy
from reconciler.sandbox.demo_data import (
    DEMO_ASSIGNMENTS,
    DEMO_CLOUD_ID,
    DEMO_CUSTOM_ROLES,
    DEMO_GROUPS,
    DEMO_LEGACY,
    DEMO_ORG_ID,
    DEMO_PEOPLE,
    DEMO_SPACES,
    SVC_ACCOUNT_ID,
)
from reconciler.sandbox.live_vocabulary import Extras
from reconciler.sandbox.live_vocabulary import apply as with_live_vocabulary
from reconciler.sandbox.state import Group, Permission, PrincipalKey, Role, SiteState, Space, User

ADMIN_EMAIL = "svc-reconciler@acme.example"
SYNTHETIC_PATTERN = re.compile(r"^synthetic:spaces=(\d+),per_space=(\d+),seed=(-?\d+)$")
SYNTHETIC_ROLE_WEIGHTS: tuple[int, ...] = (1, 1, 3, 5)  # Admin, Manager, Collaborator, Viewer
VOCABULARIES = ("plain", "live")
DEFAULT_VOCABULARY = "live"  # the tool survives it (issue 12, item 3); "+plain" for the narrow model


def admin_token(name: str) -> str:
    """The sandbox admin's API token: a fixed fake value per site name (not a secret)."""
    return "sandbox-admin-token-demo" if name == "demo" else "sandbox-admin-token"


def seed_state(name: str) -> SiteState:
    """A fresh site for a seed name: ``demo`` or ``synthetic:spaces=N,per_space=M,seed=S``, optionally
    with ``+live`` or ``+plain`` (default ``DEFAULT_VOCABULARY``)."""
    base, _, option = name.partition("+")
    vocabulary = option or DEFAULT_VOCABULARY
    if vocabulary not in VOCABULARIES:
        raise ValueError(f"unknown sandbox seed option '+{option}' in '{name}': expected +live or +plain")
    if base == "demo":
        state = demo_state()
        extras = DEMO_LIVE_EXTRAS
    else:
        match = SYNTHETIC_PATTERN.match(base)
        if match is None:
            raise ValueError(
                f"unknown sandbox seed '{name}': expected 'demo' or 'synthetic:spaces=N,per_space=M,seed=S' "
                "(optionally followed by +live or +plain)"
            )
        spaces, per_space, seed = (int(g) for g in match.groups())
        state = synthetic_state(spaces, per_space, seed)
        extras = Extras(apps=2)
    if vocabulary == "live":
        with_live_vocabulary(state, extras)
    state.seed = name
    return state


def _id(namespace: str, text: str) -> str:
    return str(uuid.uuid5(uuid.UUID(namespace), text))


def _base_state(name: str, cloud_id: str, org_id: str, mode: str) -> SiteState:
    state = SiteState(
        name=name,
        mode=mode,
        cloud_id=cloud_id,
        org_id=org_id,
        admin_api_key=f"sandbox-admin-api-key-{'demo' if name == 'demo' else 'synthetic'}",
    )
    state.seed = name
    for role_name in DEFAULT_ROLES:
        perms = [p for p in KNOWN_PERMISSIONS if p in DEFAULT_ROLE_PERMISSIONS[role_name]]
        role_id = _id(cloud_id, f"system-role:{role_name}")
        state.roles[role_id] = Role(role_id, "SYSTEM", role_name, DEFAULT_ROLE_DESCRIPTIONS[role_name], perms)
    return state


# ------------------------------------------------------------------------------------------------ demo
# The demo's live-vocabulary rows besides the app users and the companions of its own grants
# (docs/sandbox.md, "The live vocabulary"), placed so that the example plan and reviews do not change: the
# access class anonymous-users also holds a read/space row in PUBLIC (where it holds a role, so the tool's
# transition read sets the row aside); one app user has a duplicate read/space row in ENG.
DEMO_LIVE_EXTRAS = Extras(
    rows=(("PUBLIC", ("ACCESS_CLASS", "anonymous-users"), "read/space"),),
    duplicates=(("ENG", ("USER", "557058:2b5e6f50-0c1d-4e2f-9a3b-4c5d6e7f8091"), "read/space"),),
)

def demo_state() -> SiteState:
    state = _base_state("demo", DEMO_CLOUD_ID, DEMO_ORG_ID, "ROLES_TRANSITION")
    handles: dict[str, str] = {}
    for handle, (account_id, display, guest) in DEMO_PEOPLE.items():
        email = ADMIN_EMAIL if account_id == SVC_ACCOUNT_ID else f"{handle}@acme.example"
        token = admin_token("demo") if account_id == SVC_ACCOUNT_ID else f"sandbox-token-{handle}"
        state.users[account_id] = User(account_id, display, email, token, guest=guest)
        handles[handle] = account_id
    for group_name, members in DEMO_GROUPS.items():
        group_id = _id(DEMO_CLOUD_ID, f"group:{group_name}")
        staff = [a for a, u in state.users.items() if not u.guest] if members == ("*staff*",) else None
        state.groups[group_id] = Group(group_id, group_name, staff or [handles[m] for m in members])
    for role_name, (description, perms) in DEMO_CUSTOM_ROLES.items():
        role_id = _id(DEMO_CLOUD_ID, f"custom-role:{role_name}")
        state.roles[role_id] = Role(role_id, "CUSTOM", role_name, description, list(perms))
    for index, (raw_key, name, space_type, status) in enumerate(DEMO_SPACES):
        space_id = 1441793 + 32768 * index
        key = raw_key.replace("{alice}", handles["alice"])
        space = Space(space_id, key, name, space_type, status, SVC_ACCOUNT_ID)
        for ref, role_name in _demo_assignments(key, space_type):
            principal = _principal(state, handles, ref)
            role = state.role_by_name(role_name)
            assert role is not None, role_name
            space.assignments[principal] = role.id
        for ref, perms in DEMO_LEGACY.get(key, {}).items():
            for perm in perms:
                op_key, _, target = perm.partition("/")
                permission = Permission(
                    state.next_permission_id, _principal(state, handles, ref), op_key, target
                )
                state.next_permission_id += 1
                space.permissions[permission.id] = permission
        state.spaces[space_id] = space
    _demo_org_policy(state)
    return state


def _demo_assignments(key: str, space_type: str) -> Iterable[tuple[str, str]]:
    if space_type != "personal":
        yield from (("group:confluence-administrators", "Admin"), ("user:svc-reconciler", "Admin"))
        yield from DEMO_ASSIGNMENTS.get(key, {}).items()
    else:
        yield from DEMO_ASSIGNMENTS.get("~", {}).items()


def _principal(state: SiteState, handles: Mapping[str, str], ref: str) -> PrincipalKey:
    kind, _, ident = ref.partition(":")
    if kind == "user":
        return ("USER", handles[ident])
    if kind == "group":
        group = state.group_by_name(ident)
        assert group is not None, ident
        return ("GROUP", group.id)
    return ("ACCESS_CLASS", ident)


def _demo_org_policy(state: SiteState) -> None:
    """What an org admin set up by hand in admin.atlassian.com before the tool (all published): the org
    default of all five controls, FIN's app block and the export block of FIN and LEGAL. The example
    policy's first plan widens the app block, adds the AI writer's controls and attachment blocks, and
    lets PUBLIC have public links and anonymous access (two loosening changes)."""
    apps, export, block, allow = DsRule.APP_ACCESS, DsRule.EXPORT, Effect.BLOCK, Effect.ALLOW
    for policy in (
        DataSecurityPolicy(apps, allow, ORG, ALL_APPS, name="Org-wide default app access"),
        DataSecurityPolicy(apps, block, CONTAINER, ALL_APPS, ("FIN",), "Confidential spaces"),
        DataSecurityPolicy(export, allow, ORG, name="Org-wide default export"),
        DataSecurityPolicy(export, block, CONTAINER, "", ("FIN", "LEGAL"), "No export of finance"),
        DataSecurityPolicy(DsRule.PUBLIC_LINKS, Effect.BLOCK, ORG, name="No public links"),
        DataSecurityPolicy(DsRule.ANONYMOUS_ACCESS, Effect.BLOCK, ORG, name="No anonymous access"),
        DataSecurityPolicy(DsRule.ATTACHMENT_DOWNLOAD, Effect.ALLOW, ORG, name="Attachment downloads"),
    ):
        add_policy(state, policy)


# ------------------------------------------------------------------------------------------- synthetic
@dataclass(frozen=True)
class SyntheticPool:
    users: tuple[str, ...]  # accountIds, svc first
    groups: tuple[str, ...]  # group names


def synthetic_pool(per_space: int) -> SyntheticPool:
    users = tuple(f"5c0000000000000000{i:06x}" for i in range(1, max(10, 2 * per_space) + 1))
    groups = tuple(f"team-{i:03d}" for i in range(1, max(5, per_space // 2 + 1) + 1))
    return SyntheticPool(users, groups)


def synthetic_state(spaces: int, per_space: int, seed: int) -> SiteState:
    """``spaces`` global spaces ``S00001``.. in mode ROLES, each with ``per_space`` assignments (the
    admin account's Admin assignment included), drawn from a pool of users and groups by ``seed``."""
    name = f"synthetic:spaces={spaces},per_space={per_space},seed={seed}"
    cloud_id = _id("6ba7b811-9dad-11d1-80b4-00c04fd430c8", name)
    state = _base_state(name, cloud_id, _id(cloud_id, "org"), "ROLES")
    state.users[SVC_ACCOUNT_ID] = User(SVC_ACCOUNT_ID, "Reconciler Service", ADMIN_EMAIL, admin_token(name))
    pool = synthetic_pool(per_space)
    for index, account_id in enumerate(pool.users, start=1):
        state.users[account_id] = User(
            account_id,
            f"User {index:05d}",
            f"user{index:05d}@synthetic.example",
            f"sandbox-token-user{index:05d}",
        )
    admins = _id(cloud_id, "group:confluence-administrators")
    state.groups[admins] = Group(admins, "confluence-administrators", [SVC_ACCOUNT_ID])
    for group_name in pool.groups:
        group_id = _id(cloud_id, f"group:{group_name}")
        state.groups[group_id] = Group(group_id, group_name, list(pool.users[:3]))
    role_ids = {r.name: r.id for r in state.roles.values()}
    for index, (key, picks) in enumerate(synthetic_assignments(spaces, per_space, seed).items()):
        space_id = 2000001 + index
        space = Space(space_id, key, f"Synthetic space {index + 1}", "global", "current", SVC_ACCOUNT_ID)
        for ref, role_name in picks.items():
            kind, _, ident = ref.partition(":")
            principal = ("USER", ident) if kind == "user" else ("GROUP", _id(cloud_id, f"group:{ident}"))
            space.assignments[principal] = role_ids[role_name]
        state.spaces[space_id] = space
    return state


def synthetic_assignments(spaces: int, per_space: int, seed: int) -> dict[str, dict[str, str]]:
    """Space key -> {``user:<accountId>`` | ``group:<name>`` -> role name}, the actor first as Admin."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data
    pool = synthetic_pool(per_space)
    refs = [f"user:{u}" for u in pool.users] + [f"group:{g}" for g in pool.groups]
    result: dict[str, dict[str, str]] = {}
    for index in range(1, spaces + 1):
        picks = {f"user:{SVC_ACCOUNT_ID}": "Admin"}
        for ref in rng.sample(refs, min(len(refs), max(0, per_space - 1))):
            picks[ref] = rng.choices(DEFAULT_ROLES, weights=SYNTHETIC_ROLE_WEIGHTS)[0]
        result[f"S{index:05d}"] = picks
    return result
