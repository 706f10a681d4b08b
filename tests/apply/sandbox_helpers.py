"""Helpers for apply tests against the in-process sandbox (a persisted demo site in a tmp dir)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from reconciler.flows.apply import PolicySite, open_policy_site
from reconciler.live_state import LiveState
from reconciler.plan.changes import ACCESS_CHANGES
from reconciler.plan.plan import Plan
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.site import Site
from reconciler.sandbox.store import open_site
from reconciler.sandbox.transport import open_sandbox_transport
from tests.kit.sites import connection

REPO = Path(__file__).resolve().parents[2]
SITE = "demo"
ApplySession = PolicySite


def copy_policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(REPO / "policies", target)
    return target


def env_for(state_dir: Path) -> dict[str, str]:
    """A clean environment: the sandbox's default credentials, no settings of the developer; one thread,
    so the seeded faults fall on the same requests on every run."""
    return {"RECONCILER_SANDBOX_DIR": str(state_dir), "RECONCILER_CONCURRENCY": "1"}  # faults by seed repeat


def open_session(policy_dir: Path, state_dir: Path, knobs: Knobs | None = None) -> tuple[ApplySession, Site]:
    """One read-write session on the persisted demo site; the client's retry waits are capped at 20 ms.
    ``knobs`` (faults) apply to the site; the org's Admin API answers through a transport of its own."""
    transport = open_sandbox_transport(SITE, state_dir, knobs)
    opened = connection(env_for(state_dir), transport=transport, sandbox_dir=state_dir,
                        admin_transport=open_sandbox_transport(SITE, state_dir),
                        sleep=lambda s: time.sleep(min(s, 0.02)))
    return open_policy_site(policy_dir, opened), transport.site


def fresh_plan(policy_dir: Path, state_dir: Path) -> tuple[LiveState, Plan]:
    """A plan made by a new process-like session without faults: what `reconciler plan` would show."""
    session, _site = open_session(policy_dir, state_dir)
    try:
        return session.plan()
    finally:
        session.connection.close()


def set_mode(state_dir: Path, mode: str) -> None:
    site = open_site(SITE, state_dir)
    with site.writing() as state:
        state.mode = mode


def writes(site: Site) -> dict[str, int]:
    return {key: n for key, n in site.counters.items() if not key.startswith("GET ")}


def summary(plan: Plan) -> list[str]:
    return [f"{c.kind.name} {c.space} {c.principal.ref}" if isinstance(c, ACCESS_CHANGES) else c.kind.name
            for c in plan.changes]


def drop_grants(policy_dir: Path) -> None:
    """The example policy without individual permissions (for a site in ROLES mode)."""
    legacy = policy_dir / "legacy.yaml"
    lines = legacy.read_text(encoding="utf-8").splitlines(keepends=True)
    legacy.write_text("".join(line for line in lines if "grants:" not in line and "contractors:" not in line),
                      encoding="utf-8")


def assignments(live: LiveState, keys: Sequence[str] = ()) -> set[tuple[str, str, str]]:
    """Every (space, principal, role or permission) of a live read."""
    facts: set[tuple[str, str, str]] = set()
    for key, space in live.spaces.items():
        if keys and key not in keys:
            continue
        facts |= {(key, p.ref, role) for p, role in space.assignments.items()}
        facts |= {(key, p.ref, perm) for p, held in space.grants.items() for perm in held}
    return facts
