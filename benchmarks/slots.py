"""Where a run's time over its lower bound went, from the sandbox's request log (``sandbox serve
--request-log``): how many of the ``cap`` concurrency slots stood idle, phase by phase.

The lower bound assumes every slot busy from the first request to the last answer. Each slot-second idle
costs ``1 / cap`` s of wall time, so the idle slot-seconds of a phase divided by ``cap`` are the seconds
that phase lost against the bound; the phases add up to the time from the first request to the last answer
minus calls x latency / cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SPACE_READ = ("/role-assignments", "/permissions")  # a space's own reads: /spaces/{id}/...


@dataclass(frozen=True)
class Logged:
    arrived: float
    answered: float
    method: str
    path: str
    status: int = 200

    @property
    def space_read(self) -> bool:
        return "/spaces/" in self.path and self.path.endswith(SPACE_READ)


def parse_log(lines: Iterable[str]) -> list[Logged]:
    """The request log's lines (``ARRIVED ANSWERED METHOD PATH STATUS``), by arrival."""
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 4:
            status = int(parts[4]) if len(parts) >= 5 and parts[4].isdigit() else 200
            found.append(Logged(float(parts[0]), float(parts[1]), parts[2], parts[3], status))
    return sorted(found, key=lambda r: r.arrived)


def idle_by_phase(requests: Sequence[Logged], cap: int, marks: Sequence[tuple[str, float]]) -> list[
        tuple[str, float, float]]:
    """(phase, its length, seconds lost to idle slots) for each phase: from the first request to the first
    mark, between marks (in time order; each named by the mark that ends it; none between two marks at the
    same moment), then to the last answer ("last round")."""
    if not requests:
        return []
    start, end = requests[0].arrived, max(r.answered for r in requests)
    bounds = [(name, at) for name, at in sorted(marks, key=lambda m: m[1]) if start < at < end]
    bounds.append(("last round", end))
    events = sorted([(r.arrived, 1) for r in requests] + [(r.answered, -1) for r in requests])
    out: list[tuple[str, float, float]] = []
    in_flight, at, index = 0, start, 0
    phase_start = start
    for name, until in bounds:
        if until <= phase_start:
            continue  # a mark at the same moment as the one before: no phase between them
        idle = 0.0
        while index < len(events) and events[index][0] <= until:
            when, step = events[index]
            idle += max(0, cap - in_flight) * (when - at)
            in_flight, at = in_flight + step, when
            index += 1
        idle += max(0, cap - in_flight) * (until - at)
        at = until
        out.append((name, until - phase_start, idle / cap))
        phase_start = until
    return out


def phase_marks(requests: Sequence[Logged], loaded_at: float | None) -> list[tuple[str, float]]:
    """The marks of a plan's read: the first space read asked (the site-wide reads before it), the policy
    loaded (given, on the log's clock), the last space read asked (the steady read before it)."""
    reads = [r for r in requests if r.space_read]
    marks: list[tuple[str, float]] = []
    if reads:
        marks.append(("site-wide reads (to the first space read)", reads[0].arrived))
        marks.append(("steady read (to the last space read asked)", reads[-1].arrived))
    if loaded_at is not None:
        marks.append(("while the policy loads (to its end)", loaded_at))
    return marks


def overshoot(requests: Sequence[Logged], latency: float, cap: int) -> tuple[float, float]:
    """(mean seconds each request took the sandbox beyond ``latency``, from its arrival to its answer
    written; the seconds that adds to a read of ``cap`` slots): time no client can win back, since a slot
    is busy until its answer is out. The lower bound counts ``latency`` per call. Only answers 2xx: a 401, a
    429 or an injected 500/503 is answered without the latency."""
    over = [r.answered - r.arrived - latency for r in requests if 200 <= r.status < 300]
    if not over:
        return 0.0, 0.0
    return sum(over) / len(over), sum(over) / cap
