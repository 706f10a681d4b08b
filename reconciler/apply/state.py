"""The state of one apply run, shared by the phases.

``RunState`` holds the plan, the live read it was made from, the seams (reader, writer), the ids learnt during
the run (roles created) and the counters. Whether a change shows in a re-read (after unknown outcomes, and
in verification) is ``reconciler.plan.replay.shows`` / ``role_shows``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.apply.ports import AppPolicyWriter, Reader, Writer
from reconciler.apply.result import ChangeResult, Status
from reconciler.errors import ApiError, TransportError
from reconciler.live_state import LiveState
from reconciler.plan.changes import ASSIGNMENT_KINDS, AccessChange, ChangeKind
from reconciler.plan.plan import Plan

SITE = "(site)"  # writes_by_space key of role writes
ORG = "(org)"  # writes_by_space key of app-policy writes
ADD_PHASE = (ChangeKind.GRANT, *ASSIGNMENT_KINDS)
ADDITION_KINDS = (ChangeKind.GRANT, ChangeKind.ASSIGN, ChangeKind.REASSIGN)
HELD = "not removed: an addition in this space failed, so removals wait for a clean run"
NO_ADMIN_API = "data security changes need the Admin API: set ATLASSIAN_ADMIN_API_KEY"
CONFIRMED = "confirmed by a re-read after a write whose outcome was unknown"

Item = tuple[int, AccessChange]  # position in the plan, a change of one space
Results = dict[int, ChangeResult]
MapSpaces = Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]


def sequential(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    return [fn(item) for item in items]


class Unresolved(Exception):  # noqa: N818 - internal signal, never escapes apply
    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class RunState:
    """The mutable state of one apply run."""

    plan: Plan
    live: LiveState
    reader: Reader
    writer: Writer
    app_writer: AppPolicyWriter | None
    sleep: Callable[[float], None]
    settle: float
    progress: Callable[[str], None]
    max_rounds: int = 3
    map_spaces: MapSpaces = sequential  # spaces are independent: the client's bounded pool may run them
    lock: threading.Lock = field(default_factory=threading.Lock)
    role_ids: dict[str, str] = field(default_factory=dict)
    failed_roles: set[str] = field(default_factory=set)
    blocked: set[tuple[str, str]] = field(default_factory=set)  # (space, principal ref): read/space failed
    held: set[str] = field(default_factory=set)  # spaces where an addition failed: no removals there
    writes_by_space: Counter[str] = field(default_factory=Counter)
    rereads: int = 0

    def __post_init__(self) -> None:
        self.role_ids.update({name: role.id for name, role in self.live.roles.items()})

    def count_write(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.writes_by_space[key] += n

    def count_reread(self) -> None:
        with self.lock:
            self.rereads += 1

    def hold(self, key: str) -> None:
        """An addition in space ``key`` failed or was skipped: its removals wait for a clean run."""
        with self.lock:
            self.held.add(key)

    def is_held(self, key: str) -> bool:
        with self.lock:
            return key in self.held


def is_unknown_outcome(err: ApiError) -> bool:
    """No response, a server error or a rate limit that reached us: the write may or may not have happened."""
    return isinstance(err, TransportError) or err.status is None or err.status >= 500 or err.status == 429
