"""Verification after apply: re-read the touched spaces until every done change is visible, within a bound.

The API is eventually consistent (read-after-write lag), so a first re-read that still shows the old state is
not a failure: the spaces that have not converged are read again after each delay. Whatever is still not
visible when the delays run out is reported as not converged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.apply.result import ChangeResult, NotConverged, Status
from reconciler.apply.state import (
    SITE,
    RunState,
)
from reconciler.errors import ApiError
from reconciler.live_state import LiveRole
from reconciler.plan.changes import ACCESS_CHANGES, AccessChange, RoleChange
from reconciler.plan.replay import role_shows, shows


def verify(
    run: RunState, results: Sequence[ChangeResult], delays: Sequence[float]
) -> tuple[list[NotConverged], int]:
    """Return the spaces (and ``(site)`` for roles) that did not converge, and the rounds of reads made."""
    pending = Pending()
    for result in results:
        change = result.change
        if result.status is not Status.DONE:
            continue
        if isinstance(change, RoleChange):
            pending.roles.append(change)
        elif isinstance(change, ACCESS_CHANGES):
            pending.spaces.setdefault(change.space, []).append(change)
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
    not_converged = [NotConverged(key, tuple(changes)) for key, changes in pending.spaces.items()]
    if pending.roles:
        not_converged.append(NotConverged(SITE, tuple(pending.roles)))
    return sorted(not_converged, key=lambda nc: nc.space), rounds


@dataclass
class Pending:
    """The done changes not yet visible: per space, and the site's role changes."""

    spaces: dict[str, list[AccessChange]] = field(default_factory=dict)
    roles: list[RoleChange] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.spaces) + (1 if self.roles else 0)


def _check_round(run: RunState, pending: Pending) -> None:
    keys = sorted(pending.spaces)
    roles: Mapping[str, LiveRole] | None = None
    if keys:
        live = run.reader.read(keys)
        roles = live.roles
        for key in keys:
            space = live.spaces.get(key)
            still = [c for c in pending.spaces[key] if space is None or not shows(space, c)]
            if still:
                pending.spaces[key] = still
            else:
                del pending.spaces[key]
    if pending.roles:
        now = roles if roles is not None else run.reader.read_roles()
        pending.roles = [c for c in pending.roles if not role_shows(now, c)]
