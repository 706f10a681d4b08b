"""DC seeds: ``dc-demo`` (matches examples/datacenter/policies) and
``dc-synthetic:spaces=N,per_space=M,seed=S`` (deterministic, for benchmarks)."""

from __future__ import annotations

import hashlib
import random
import re

from reconciler.sandbox.datacenter.rules import OPERATIONS
from reconciler.sandbox.datacenter.state import ADMIN_GROUP, ANONYMOUS, DcSpace, DcState, DcUser

ADMIN_USERNAME = "svc-reconciler"
DEMO_PAT = "sandbox-dc-pat-demo"  # fake sandbox credentials, not secrets
DEMO_PASSWORD = "sandbox-dc-password"  # noqa: S105 - a fake sandbox password
SYNTHETIC = re.compile(r"^dc-synthetic:spaces=(\d+),per_space=(\d+),seed=(-?\d+)$")

VIEWER = ("read/space", "create/comment")
COLLABORATOR = (*VIEWER, "create/page", "create/blogpost", "create/attachment", "delete_own/space")
MANAGER = (*COLLABORATOR, "delete/page", "delete/blogpost", "delete/comment", "delete/attachment",
           "export/space", "restrict/space")
ADMIN = (*MANAGER, "administer/space")

DEMO_USERS: tuple[tuple[str, str], ...] = (
    (ADMIN_USERNAME, "Reconciler service account"), ("alice", "Alice Archer"), ("bob", "Bob Baker"),
    ("carol", "Carol Chen"), ("dave", "Dave Diaz"), ("erin", "Erin Evans"),
)
DEMO_GROUPS: dict[str, tuple[str, ...]] = {
    ADMIN_GROUP: (ADMIN_USERNAME,),
    "confluence-users": tuple(name for name, _ in DEMO_USERS),
    "engineering": ("alice", "bob"),
    "finance": ("carol",),
    "hr": ("dave",),
    "ops/oncall": ("bob", "erin"),  # a '/' in a group name (ONYX: breaks path-based group endpoints)
}
DEMO_SPACES: tuple[tuple[str, str, str], ...] = (
    ("DOCS", "Documentation", "global"), ("ENG", "Engineering", "global"), ("FIN", "Finance", "global"),
    ("HR", "People", "global"), ("PUBLIC", "Public", "global"), ("~alice", "Alice Archer", "personal"),
)
# space -> subject ("user:<username>", "group:<name>", "anonymous") -> operations
DEMO_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "DOCS": {"user:svc-reconciler": ADMIN, "group:confluence-users": VIEWER,
             "group:engineering": COLLABORATOR},
    "ENG": {"user:svc-reconciler": ADMIN, "user:alice": ADMIN, "group:engineering": COLLABORATOR,
            "group:ops/oncall": ("read/space",)},
    "FIN": {"user:svc-reconciler": ADMIN, "user:carol": ADMIN, "group:finance": COLLABORATOR},
    "HR": {"user:svc-reconciler": ADMIN, "user:dave": (*MANAGER, "administer/space"), "group:hr": VIEWER},
    "PUBLIC": {"user:svc-reconciler": ADMIN, "group:confluence-users": COLLABORATOR,
               "anonymous": ("read/space",)},
    "~alice": {"user:alice": (*ADMIN, "delete_mail/space")},
}


def user_key(username: str) -> str:
    """A stable 32-hex userKey (DC keys look like ``4028ae289154667d0191546bd5840000``)."""
    return hashlib.md5(username.encode(), usedforsecurity=False).hexdigest()


def is_dc_seed(name: str) -> bool:
    return name == "dc-demo" or SYNTHETIC.match(name) is not None


def seed_state(name: str) -> DcState:
    if name == "dc-demo":
        return demo_state()
    match = SYNTHETIC.match(name)
    if match is None:
        raise ValueError(f"unknown Data Center sandbox seed '{name}': expected 'dc-demo' or "
                         "'dc-synthetic:spaces=N,per_space=M,seed=S'")
    spaces, per_space, seed = (int(g) for g in match.groups())
    return synthetic_state(name, spaces, per_space, seed)


def _user(username: str, display: str) -> DcUser:
    admin = username == ADMIN_USERNAME
    return DcUser(user_key(username), username, display, f"{username}@acme.example",
                  password=DEMO_PASSWORD if admin else f"{username}-password",
                  pat=DEMO_PAT if admin else f"sandbox-dc-pat-{username}")


def demo_state() -> DcState:
    state = DcState(name="dc-demo", context_path="/confluence", seed="dc-demo")
    for username, display in DEMO_USERS:
        user = _user(username, display)
        state.users[user.key] = user
    for group, members in DEMO_GROUPS.items():
        state.groups[group] = [user_key(m) for m in members]
    for number, (key, title, kind) in enumerate(DEMO_SPACES):
        state.spaces[key] = DcSpace(98305 + number, key, title, kind)
    for space, subjects in DEMO_PERMISSIONS.items():
        for subject, ops in subjects.items():
            kind, _, ident = subject.partition(":")
            stored = f"user:{user_key(ident)}" if kind == "user" else subject
            state.permissions |= {(space, stored if subject != ANONYMOUS else ANONYMOUS, op) for op in ops}
    return state


def synthetic_state(name: str, spaces: int, per_space: int, seed: int) -> DcState:
    """``spaces`` spaces, each with the admin plus ``per_space`` other subjects (users and groups, a few
    anonymous), permission sets drawn from the four compiled roles."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data
    state = DcState(name=name, seed=name)
    admin = _user(ADMIN_USERNAME, "Reconciler service account")
    state.users[admin.key] = admin
    population = max(per_space * 2, 10)
    for i in range(population):
        user = _user(f"user{i:05d}", f"User {i}")
        state.users[user.key] = user
    state.groups[ADMIN_GROUP] = [admin.key]
    for i in range(max(per_space, 5)):
        state.groups[f"team-{i:04d}"] = [user_key(f"user{j:05d}") for j in range(i, population, 7)]
    group_names = sorted(g for g in state.groups if g != ADMIN_GROUP)
    sets = (VIEWER, COLLABORATOR, MANAGER, ADMIN)
    for n in range(spaces):
        key = f"S{n:05d}"
        state.spaces[key] = DcSpace(1_000_000 + n, key, f"Space {n}")
        state.permissions |= {(key, f"user:{admin.key}", op) for op in ADMIN}
        for _ in range(per_space):
            roll = rng.random()
            if roll < 0.5:
                subject = f"group:{rng.choice(group_names)}"
            elif roll < 0.97:
                subject = f"user:{user_key(f'user{rng.randrange(population):05d}')}"
            else:
                subject = ANONYMOUS
            ops = sets[rng.choices(range(4), (5, 3, 1, 1))[0]] if subject != ANONYMOUS else VIEWER
            state.permissions |= {(key, subject, op) for op in ops}
    assert all(op in OPERATIONS for (_, _, op) in state.permissions)
    return state
