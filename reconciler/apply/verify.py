"""Verification after apply: re-read the touched spaces until every done change is visible, within a bound.

The API is eventually consistent (read-after-write lag), so a first re-read that still shows the old state is
not a failure: the spaces that have not converged are read again after each delay. Whatever is still not
visible when the delays run out is reported as not converged.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.apply.result import ChangeResult, NotConverged, Status
from reconciler.apply.run import (
    SITE,
    Run,
    role_satisfied,
    space_satisfied,
)
from reconciler.errors import ApiError
from reconciler.model import LiveState
from reconciler.plan.changes import APP_POLICY_KINDS, ROLE_KINDS, Change


def verify(
    run: Run, results: Sequence[ChangeResult], delays: Sequence[float]
) -> tuple[list[NotConverged], int]:
    """Return the spaces (and ``(site)`` for roles) that did not converge, and the rounds of reads made."""
    pending: dict[str, list[Change]] = {}
    for result in results:
        change = result.change
        if result.status is not Status.DONE or change.kind in APP_POLICY_KINDS:
            continue
        key = SITE if change.kind in ROLE_KINDS else change.space or SITE
        pending.setdefault(key, []).append(change)
    rounds = 0
    for attempt in range(len(delays) + 1):
        if not pending:
            break
        if attempt:
            run.sleep(delays[attempt - 1])
        rounds += 1
        run.progress(f"verifying {len(pending)} space(s)")
        try:
            _check_round(run, pending)
        except ApiError:
            continue  # a failed read is retried on the next round, like lag
    return [NotConverged(key, tuple(changes)) for key, changes in sorted(pending.items())], rounds


def _check_round(run: Run, pending: dict[str, list[Change]]) -> None:
    spaces = sorted(key for key in pending if key != SITE)
    live: LiveState | None = run.reader.read(spaces) if spaces else None
    for key in spaces:
        assert live is not None
        space = live.spaces.get(key)
        still = [c for c in pending[key] if space is None or not space_satisfied(c, space)]
        _update(pending, key, still)
    if SITE in pending:
        roles = live.roles if live is not None else run.reader.read_roles()
        _update(pending, SITE, [c for c in pending[SITE] if not role_satisfied(c, roles)])


def _update(pending: dict[str, list[Change]], key: str, still: list[Change]) -> None:
    if still:
        pending[key] = still
    else:
        del pending[key]
