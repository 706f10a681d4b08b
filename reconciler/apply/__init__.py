"""Apply a plan: refuse a stale or unsafe plan, write in the plan's order, isolate failures, verify.

The engine talks to the site through two narrow seams, so tests can use fakes and the sandbox alike:

- a ``Reader`` re-reads live state (the plan's scope, one space, the role list);
- a ``Writer`` performs single writes with ids already resolved (``reconciler.confluence.write``).

Steps (docs/apply.md):

1. Re-read the plan's scope; refuse a stale plan (fingerprint differs) and assess its safety on the re-read
   (once; with ``live``, the read the plan was made from, the plan's own findings are that assessment).
2. Roles created and updated; then per space the grants (``read/space`` first) and ONE role-assignment POST
   carrying every assign, reassign and unassign of that space; then app policies; then per space the
   revokes (``read/space`` last); then roles deleted. A space where an addition failed keeps every
   removal (skipped, never sent) until a clean run (``reconciler.apply.space``).
3. A write whose outcome is unknown (no response, 5xx) is never repeated blindly: the space is re-read and
   only the planned changes not yet visible are written again (``reconciler.apply.execute``).
4. The touched spaces are re-read with bounded polling until every done change is visible.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from reconciler.apply.execute import MapSpaces, RunState, execute_plan, sequential
from reconciler.apply.ports import AppPolicyWriter, Reader, RoleEntry, Subject, Writer
from reconciler.apply.result import ApplyResult, ChangeResult, NotConverged, Status
from reconciler.apply.verify import verify
from reconciler.errors import StalePlanError, UnsafePlanError
from reconciler.fingerprint import fingerprint
from reconciler.live_state import LiveState
from reconciler.model import DesiredState
from reconciler.plan.plan import Plan, SafetyFinding
from reconciler.plan.safety import check_plan
from reconciler.report.group import group_findings

__all__ = [
    "AppPolicyWriter",
    "ApplyResult",
    "ChangeResult",
    "NotConverged",
    "Reader",
    "RoleEntry",
    "Status",
    "Subject",
    "Writer",
    "apply_plan",
]

STALE_MESSAGE = "the live state changed since this plan was made; run `reconciler plan` again"
DEFAULT_SETTLE = 0.5  # seconds to wait before re-reading a space after an unknown outcome
DEFAULT_VERIFY_DELAYS = (0.2, 0.4, 0.8, 1.6, 3.2)  # verification polling: at most ~6 s of waiting


def apply_plan(
    plan: Plan,
    desired: DesiredState,
    *,
    reader: Reader,
    writer: Writer,
    app_writer: AppPolicyWriter | None = None,
    allow_unsafe: bool = False,
    live: LiveState | None = None,
    sleep: Callable[[float], None] = time.sleep,
    settle: float = DEFAULT_SETTLE,
    verify_delays: Sequence[float] = DEFAULT_VERIFY_DELAYS,
    progress: Callable[[str], None] | None = None,
    map_spaces: MapSpaces | None = None,
) -> ApplyResult:
    """Apply ``plan``. ``live``, when given, is the read ``plan`` was made from just now: no re-read, and the
    plan's findings are its safety assessment. Otherwise the scope is re-read and assessed, once.

    ``map_spaces`` runs the per-space work of a phase (e.g. ``ConfluenceClient.map_concurrently``, a bounded
    pool); spaces are independent, and results are merged in the plan's order whatever the timing.

    Raises ``StalePlanError`` or ``UnsafePlanError`` before writing anything; write failures are reported
    in the result, never raised.
    """
    findings = plan.findings
    if live is None:
        live = reader.read(plan.scope)
        check_fresh(plan, live)
        findings = check_plan(plan, desired, live)
    else:
        check_fresh(plan, live)
    refuse_unsafe(findings, allow_unsafe=allow_unsafe)
    run = RunState(
        plan=plan, live=live, reader=reader, writer=writer, app_writer=app_writer,
        sleep=sleep, settle=settle, progress=progress or (lambda _msg: None),
        map_spaces=map_spaces or sequential,
    )
    results = execute_plan(run)
    not_converged, rounds = verify(run, results, verify_delays)
    return ApplyResult(
        site=plan.site,
        mode=plan.mode,
        results=tuple(results),
        not_converged=tuple(not_converged),
        writes=sum(run.writes_by_space.values()),
        writes_by_space=dict(run.writes_by_space),
        rereads=run.rereads,
        verify_rounds=rounds,
    )


def check_fresh(plan: Plan, live: LiveState) -> None:
    if fingerprint(live, scope=[space.key for space in plan.spaces]) != plan.fingerprint:
        raise StalePlanError(STALE_MESSAGE)


def refuse_unsafe(findings: Sequence[SafetyFinding], *, allow_unsafe: bool) -> None:
    """``UnsafePlanError`` naming every finding, unless there is none or ``allow_unsafe``."""
    if findings and not allow_unsafe:
        raise UnsafePlanError(unsafe_message(findings))


def unsafe_message(findings: Sequence[SafetyFinding]) -> str:
    head = (f"the plan fails {len(findings)} safety check(s); nothing was written "
            f"(pass {SafetyFinding.OVERRIDE} to apply it anyway):")
    lines = [head]
    lines += [f"  - {line}" for line in group_findings(findings)]  # one line per kind, not per space
    return "\n".join(lines)
