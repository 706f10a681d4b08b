"""The gate every request of one client passes: a slot of the concurrency limit, then its turn in the pace.

``pace.AdaptiveLimit`` bounds how many requests are in flight (the cap is ``RECONCILER_CONCURRENCY``);
``rate.RatePacer`` decides when the next one may start (a rate learnt from the site, and no start before a
``Retry-After`` has elapsed). Each answer is reported back to both: its duration and whether it was a 429
to the limit, and to the pacer whether the site accepted it and what its budget headers say.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from reconciler.confluence.pace import AdaptiveLimit
from reconciler.confluence.rate import Budget, RatePacer, Turn
from reconciler.confluence.retry import parse_retry_after

# The budget headers of an answer. Names and meaning ("NearLimit: true when less than 20% of any budget
# remains") from Atlassian's rate limiting page as quoted in JRACLOUD-69262 (docs/confluence-api.md §4); what
# Remaining and Limit count for API-token traffic on Cloud is unverified (rate.py reads them conservatively).
# Data Center sends the same two names for its token bucket (RL-DC, docs/evidence/datacenter.md).
REMAINING = "X-RateLimit-Remaining"
LIMIT = "X-RateLimit-Limit"
NEAR_LIMIT = "X-RateLimit-NearLimit"
SAME_WAIT = 0.5  # seconds: holds ending this close to the one already told are the same wait


_BUDGET_NAMES = frozenset(name.lower().encode() for name in (REMAINING, LIMIT, NEAR_LIMIT))


def budget_of(headers: httpx.Headers) -> Budget:
    """The rate-limit budget an answer reports; a header that is missing or not a number is ignored."""
    if _BUDGET_NAMES.isdisjoint(key.lower() for key, _value in headers.raw):  # none sent: one pass
        return Budget()
    return Budget(remaining=_count(headers.get(REMAINING)), limit=_count(headers.get(LIMIT)),
                  near=(headers.get(NEAR_LIMIT) or "").strip().lower() == "true")


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


@dataclass(frozen=True, slots=True)
class _Ticket:
    slot: int
    turn: Turn


class Throttle:
    def __init__(self, cap: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, longest_hold: float = 120.0) -> None:
        self.limit = AdaptiveLimit(cap)
        self.pacer = RatePacer(clock)
        self._clock = clock
        self._sleep = sleep
        self._longest_hold = longest_hold  # a Retry-After beyond the retry budget holds nobody back
        self._told_until = -math.inf  # the end of the last hold told to the progress display
        self._lock = threading.Lock()

    def send(self, attempt: Callable[[], httpx.Response]) -> httpx.Response:
        """Run one attempt when its turn comes, and report its answer (or its failure) back."""
        slot = self.limit.acquire()
        try:
            turn = self._turn()
        except BaseException:  # Ctrl-C (or a failing clock) while waiting for the turn: the slot goes back
            self.limit.release(slot, seconds=None)
            raise
        ticket = _Ticket(slot, turn)
        started = self._clock()
        seconds: float | None = None
        response: httpx.Response | None = None
        try:
            response = attempt()
            seconds = self._clock() - started
            return response
        finally:
            throttled = response is not None and response.status_code == 429
            woken = self.limit.release(ticket.slot, seconds=seconds, throttled=throttled)
            if response is not None and throttled:
                after = parse_retry_after(response.headers.get("Retry-After"))
                self.pacer.refused(ticket.turn, after if after is not None and after <= self._longest_hold
                                   else None)
            elif response is not None:
                self.pacer.accepted(ticket.turn, budget_of(response.headers))
            if woken and not throttled:  # the pacer knows the answer: the next request may go first
                self.limit.hand_over()

    def hold(self, seconds: float) -> bool:
        """The site said when to come back (``Retry-After``): no request starts before then. True when
        this is a new wait to tell (not one ending within ``SAME_WAIT`` of the last one told)."""
        self.pacer.hold(seconds)
        until = self._clock() + seconds
        with self._lock:
            if until <= self._told_until + SAME_WAIT:
                return False
            self._told_until = until
            return True

    def _turn(self) -> Turn:
        asked = None
        while True:
            now = self._clock()
            turn = self.pacer.turn(binding=now == asked)  # a clock that stands still (a test) ends it
            asked = now
            wait = turn.at - now
            if wait > 0:  # the pacer read its clock after ``now``: an unpaced turn is a few µs "ahead"
                wait = turn.at - self._clock()
            if wait > 0:
                self._sleep(wait)
            if turn.final and self.pacer.still_valid(turn):
                return turn
