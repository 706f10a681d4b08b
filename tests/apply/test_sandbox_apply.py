"""Apply against the in-process sandbox: roles, transition and legacy sites; faults; interruption."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler.apply import ApplyResult, RoleEntry, Subject, apply_plan
from reconciler.live_state import SpaceInfo
from reconciler.model import RoleDef
from reconciler.plan.changes import ACCESS_CHANGES
from reconciler.sandbox.faults import Knobs
from tests.apply.sandbox_helpers import (
    ApplySession,
    assignments,
    copy_policies,
    drop_grants,
    fresh_plan,
    open_session,
    set_mode,
    summary,
    writes,
)

FAULTS = Knobs(fault_rate=0.05, fault_seed=11, fault_kinds=("500", "502", "503", "drop"), read_lag_ms=30.0)
HEAVY = Knobs(fault_rate=0.3, fault_seed=23,  # seed: faults fall on writes (and re-reads) in both modes
              fault_kinds=("500", "502", "503", "drop"), read_lag_ms=30.0)
BURSTS = Knobs(rate_limit=100.0, burst=10)  # 429 with Retry-After once a burst of 10 is spent


def apply_once(session: ApplySession, *, sleep: object = None) -> ApplyResult:
    live, plan = session.plan()
    kwargs = {} if sleep is None else {"sleep": sleep}
    return apply_plan(plan, session.desired, reader=session.reader, writer=session.backend.writer, live=live,
                      app_writer=session.app_writer(plan), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    return copy_policies(tmp_path)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "sandbox"


def roles_site(policies: Path, state_dir: Path) -> None:
    set_mode(state_dir, "ROLES")
    drop_grants(policies)


def test_apply_then_plan_has_no_changes_on_a_transition_site(policies: Path, state_dir: Path) -> None:
    session, _site = open_session(policies, state_dir)
    result = apply_once(session)
    assert result.ok, result
    assert {"OPS", "ENG", "DOCS"} <= set(result.writes_by_space)
    _live, plan = fresh_plan(policies, state_dir)
    assert summary(plan) == []


def test_apply_then_plan_has_no_changes_on_a_roles_site(policies: Path, state_dir: Path) -> None:
    roles_site(policies, state_dir)
    session, site = open_session(policies, state_dir)
    _live, before = session.plan()
    changed = sorted({c.space for c in before.changes if isinstance(c, ACCESS_CHANGES)})
    site.reset_counters()
    result = apply_once(session)
    assert result.ok, result
    assert summary(fresh_plan(policies, state_dir)[1]) == []
    # one role-assignment POST per changed space, nothing else per space
    per_space = {k: v for k, v in result.writes_by_space.items() if k not in ("(site)", "(org)")}
    assert per_space == dict.fromkeys(changed, 1)
    assert writes(site)["POST /wiki/api/v2/spaces/{id}/role-assignments"] == len(changed)


@pytest.mark.parametrize(
    ("mode", "knobs"),
    [("ROLES_TRANSITION", FAULTS), ("ROLES", FAULTS), ("ROLES", BURSTS)],
    ids=["transition site, 5% faults and read lag", "roles site, 5% faults and read lag",
         "roles site, 429 bursts"],
)
def test_apply_converges_under_injected_faults(
    policies: Path, state_dir: Path, mode: str, knobs: Knobs
) -> None:
    if mode == "ROLES":
        roles_site(policies, state_dir)
    session, site = open_session(policies, state_dir, knobs)
    result = apply_once(session)
    assert result.ok, result
    assert summary(fresh_plan(policies, state_dir)[1]) == []
    assert sum(site.counters.values()) > 0


@pytest.mark.parametrize("mode", ["ROLES_TRANSITION", "ROLES"], ids=["transition site", "roles site"])
def test_writes_with_unknown_outcomes_are_confirmed_by_rereads_and_converge(
    policies: Path, state_dir: Path, mode: str
) -> None:
    if mode == "ROLES":
        roles_site(policies, state_dir)
    session, _site = open_session(policies, state_dir, HEAVY)  # 30% of requests fail or drop
    result = apply_once(session)
    assert result.ok, result
    assert result.rereads >= 2
    assert summary(fresh_plan(policies, state_dir)[1]) == []


class InterruptingWriter:
    """Passes writes through, then raises KeyboardInterrupt on write number ``after + 1``."""

    def __init__(self, inner: object, after: int) -> None:
        self.inner = inner
        self.left = after

    def _tick(self) -> None:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1

    def create_role(self, role: RoleDef) -> str:
        self._tick()
        return self.inner.create_role(role)  # type: ignore[attr-defined, no-any-return]

    def update_role(self, role_id: str, role: RoleDef) -> None:
        self._tick()
        self.inner.update_role(role_id, role)  # type: ignore[attr-defined]

    def delete_role(self, role_id: str) -> None:
        self._tick()
        self.inner.delete_role(role_id)  # type: ignore[attr-defined]

    def set_role_assignments(self, space: SpaceInfo, entries: Sequence[RoleEntry]) -> int:
        self._tick()
        return self.inner.set_role_assignments(space, entries)  # type: ignore[attr-defined, no-any-return]

    def add_permission(self, space: SpaceInfo, subject: Subject, permission: str) -> int:
        self._tick()
        return self.inner.add_permission(space, subject, permission)  # type: ignore[attr-defined, no-any-return]

    def delete_permission(self, space: SpaceInfo, permission_id: int) -> None:
        self._tick()
        self.inner.delete_permission(space, permission_id)  # type: ignore[attr-defined]


@pytest.mark.parametrize("after", [1, 3, 5])
def test_interrupted_apply_then_second_apply_converges_without_losing_unmanaged_access(
    policies: Path, state_dir: Path, after: int
) -> None:
    session, _site = open_session(policies, state_dir)
    live, plan = session.plan()
    removed = {(c.space, c.principal.ref) for c in plan.changes
               if isinstance(c, ACCESS_CHANGES) and c.kind.removes_access}
    kept_before = {fact for fact in assignments(live) if (fact[0], fact[1]) not in removed}
    with pytest.raises(KeyboardInterrupt):
        apply_plan(plan, session.desired, reader=session.reader, live=live,
                   app_writer=session.app_writer(plan),
                   writer=InterruptingWriter(session.backend.writer, after))  # type: ignore[arg-type]
    session.connection.close()

    second, _site = open_session(policies, state_dir)
    result = apply_once(second)
    assert result.ok, result
    final_live, final_plan = fresh_plan(policies, state_dir)
    assert summary(final_plan) == []
    after_facts = assignments(final_live)
    lost = {fact for fact in kept_before if fact not in after_facts
            and not any(f[:2] == fact[:2] for f in after_facts)}  # a principal's role may change, not vanish
    assert lost == set()


LEGACY_POLICY = """\
version: 1
site: {{url: "sandbox:demo", model: legacy, custom_role_limit: 10, actor: svc-reconciler,
        default_authority: additive}}
safety: {{max_removal_fraction: 0.5, min_admins_per_space: 1, protected: [group:confluence-administrators]}}
people:
  svc-reconciler: 712020:5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
  alice: 5b10ac8d82e05b22cc7d4ef5
spaces:
  OPS:
    grants:
      user:svc-reconciler: [read/space, administer/space]
      group:contractors: {contractors}
      user:alice: {alice}
  DOCS:
    grants:
      user:svc-reconciler: [read/space, administer/space]
      class:anonymous-users: [read/space]
"""


def write_legacy_policy(path: Path, *, contractors: str, alice: str) -> Path:
    path.mkdir(exist_ok=True)
    (path / "site.yaml").write_text(LEGACY_POLICY.format(contractors=contractors, alice=alice),
                                    encoding="utf-8")
    return path


def test_apply_then_plan_has_no_changes_on_a_legacy_site_granting_and_revoking(
    tmp_path: Path, state_dir: Path
) -> None:
    set_mode(state_dir, "PRE_ROLES")
    policies = write_legacy_policy(
        tmp_path / "legacy", contractors="[read/space, create/comment, create/page]",
        alice="[read/space, create/page, create/comment]",
    )
    first, _site = open_session(policies, state_dir, FAULTS)
    assert apply_once(first).ok
    assert summary(fresh_plan(policies, state_dir)[1]) == []

    write_legacy_policy(policies, contractors="[read/space, create/comment]", alice="[]")
    second, _site = open_session(policies, state_dir, FAULTS)
    result = apply_once(second)
    assert result.ok, result
    assert [(r.change.kind.name, r.change.space, r.change.permission) for r in result.results] == [
        ("REVOKE", "OPS", "create/page"),
        ("REVOKE", "OPS", "create/comment"),
        ("REVOKE", "OPS", "create/page"),
        ("REVOKE", "OPS", "read/space"),
    ]
    assert summary(fresh_plan(policies, state_dir)[1]) == []
