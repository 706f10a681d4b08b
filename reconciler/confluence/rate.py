"""When the next request may start: a rate learnt from the site (AIMD), on top of ``pace.AdaptiveLimit``.

A Cloud site refuses requests that come too fast with 429 and ``Retry-After`` ([DAC-rate],
docs/confluence-api.md §4); the sandbox models it as a token bucket (docs/sandbox.md). Halving the
concurrency on a 429 is not enough there: each 429 idles the client for a whole-second ``Retry-After``
while the site's bucket fills and overflows, so a concurrency-only client settled at about half the site's
rate (docs/performance.md, "Adaptive concurrency"). So requests are paced by rate as well:

- **Unpaced until the site pushes back**: a site without a rate limit is never slowed down.
- **Retry-After exactly**: no request starts before a ``Retry-After`` has elapsed, counted from when the
  429 arrived (so never early by the site's clock either); a request whose turn was given before the 429
  arrived takes a new one after the hold.
- **After a 429** ("multiplicative decrease"): the rate becomes ``THROTTLED`` times the rate of answers the
  site accepted over the last ``WINDOW`` (or the current rate, if lower); requests start evenly spaced at
  that rate (a client-side token bucket without burst). Only a 429 to a request sent after the last cut
  cuts again.
- **While answers succeed** ("additive increase"): each accepted answer adds ``GROWTH`` requests/s; after
  the first cut from unpaced (whose measured rate is a low guess) ``SLOW_START`` instead, until the next
  push-back; ``ROOM_GROWTH`` when the budget headers say at least ``LOW_SHARE`` is left. No turn is
  given more than ``HORIZON`` ahead, so a rate that grows is used at once (a turn given at a low rate
  would otherwise keep its place far ahead).
- **The budget headers, if the site sends them**: an answer whose ``X-RateLimit-Remaining`` is under
  ``LOW_SHARE`` of ``X-RateLimit-Limit``, or with ``X-RateLimit-NearLimit: true``, is an early push-back,
  before the next 429. The rate then becomes ``NEAR`` times the site's refill rate, measured as the answers
  accepted plus the change of ``Remaining`` per second over the last ``ESTIMATE_SPAN`` (a token bucket's
  balance). Without such a measurement a low budget only stops the growth (and ends slow start with one
  cut to the accepted rate, no lower than slow start began): it never takes an unpaced client to a
  guessed rate, nor lowers a rate again and again, because what Cloud counts in these headers for
  API-token traffic is **unverified** (an hourly quota that stays low would otherwise pace a run down
  to nothing). Header names and the
  NearLimit meaning: throttle.py.

The numbers below are tuning of this client (against the sandbox's token bucket and a simulation of it),
not facts about any site. The clock is injected: tests drive it by hand, never by the wall clock.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW = 1.0  # seconds of accepted answers a measured rate is taken over
THROTTLED = 0.9  # after a 429: this share of the accepted rate
NEAR = 0.97  # when the budget runs low: this share of the site's refill rate (or of the current rate)
GROWTH = 0.02  # requests/s added per accepted answer
SLOW_START = 3.0  # the same after the first cut, until the next push-back
ROOM_GROWTH = 0.3  # the same while the budget headers say at least LOW_SHARE is left
LOW_SHARE = 0.5  # Remaining under this share of Limit counts as a low budget (NearLimit says 20%: later)
LOW_GAP = 0.2  # seconds: a low budget cuts at most this often (the budget takes time to refill)
ESTIMATE_SPAN = 2.0  # seconds of budget headers the refill rate is measured over
MIN_SPAN = 0.25  # seconds: no rate is measured over less
MIN_RATE = 1.0  # requests/s: never paced slower than this
HORIZON = 0.1  # seconds: no turn is given further ahead than this (the rate may grow meanwhile)


@dataclass(frozen=True, slots=True)
class Budget:
    """What an answer says about the site's rate-limit budget (``None``: the header was not sent)."""

    remaining: int | None = None
    limit: int | None = None
    near: bool = False

    @property
    def low(self) -> bool:
        if self.near:
            return True
        if self.remaining is None or not self.limit or self.limit <= 0:
            return False
        return self.remaining < LOW_SHARE * self.limit


@dataclass(frozen=True, slots=True)
class Turn:
    """A request's place in the pace: when it may start and under which hold it was given."""

    at: float
    hold: int  # hold generation: a Retry-After that arrived since makes the turn void
    epoch: int  # cut generation when given: an answer to a request sent before the last cut does not cut
    final: bool = True  # False: not a turn yet, only when to ask again


class RatePacer:
    """Thread-safe; ``turn`` before each request, ``accepted`` or ``refused`` after its answer."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate: float | None = None  # requests/s; None: not paced
        self._last = -math.inf  # the start given to the last paced request
        self._hold_until = 0.0  # no request starts before this (Retry-After)
        self._hold = 0
        self._epoch = 0
        self._last_cut = -WINDOW
        self._starting = False  # slow start: after the first cut from unpaced, until the next push-back
        self._began = MIN_RATE  # the rate slow start began at (a 429's measurement): its floor
        self._accepted: deque[float] = deque()  # times of accepted answers in the last WINDOW
        self._budget: deque[tuple[float, int, int]] = deque()  # (time, Remaining, answers so far)
        self._total = 0  # accepted answers so far
        self.throttled = 0  # 429 answers
        self.cuts = 0  # times the rate was lowered
        self.peak_rate = 0.0

    @property
    def rate(self) -> float | None:
        with self._lock:
            return self._rate

    @property
    def hold_until(self) -> float:
        with self._lock:
            return self._hold_until

    def turn(self, *, binding: bool = False) -> Turn:
        """The next start: wait until ``at``, then, if ``final``, ask ``still_valid``; else ask again.
        ``binding``: a final turn however far ahead (when the clock did not move since the last ask)."""
        with self._lock:
            now = self._clock()
            at = free = max(now, self._hold_until)
            if self._rate is not None:
                at = max(free, self._last + 1.0 / self._rate)
                if at - free > HORIZON and not binding:  # not far ahead at today's rate: it may grow
                    return Turn(free + HORIZON, self._hold, self._epoch, final=False)
                self._last = at
            return Turn(at, self._hold, self._epoch)

    def still_valid(self, turn: Turn) -> bool:
        """False when a Retry-After arrived after the turn was given: take a new one."""
        with self._lock:
            return turn.hold == self._hold

    def accepted(self, turn: Turn, budget: Budget = Budget()) -> None:
        """An answer other than 429 arrived for a request sent on ``turn``."""
        with self._lock:
            now = self._clock()
            self._accepted.append(now)
            self._forget(now)
            self._note_budget(now, budget)
            if budget.low:
                if turn.epoch == self._epoch and now - self._last_cut >= LOW_GAP:
                    refill = self._refill_rate()
                    if refill is not None and refill > 0:
                        self._set(now, NEAR * refill)
                    elif self._starting:  # slow start overshot: back off once, no lower than it began
                        self._cut(now, NEAR, floor=self._began)
                return  # otherwise a low budget only stops the growth: 429s cut
            if self._rate is None:
                return
            roomy = budget.remaining is not None and bool(budget.limit)  # and not low: the site says so
            self._rate += SLOW_START if self._starting else ROOM_GROWTH if roomy else GROWTH
            self.peak_rate = max(self.peak_rate, self._rate)

    def refused(self, turn: Turn, retry_after: float | None) -> None:
        """A 429 arrived for a request sent on ``turn``; ``retry_after``: the site's wait, if it gave one."""
        with self._lock:
            now = self._clock()
            self.throttled += 1
            if retry_after is not None and now + retry_after > self._hold_until:
                self._hold_until = now + retry_after
                self._hold += 1
            if turn.epoch == self._epoch:
                self._cut(now, THROTTLED)

    def hold(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` (a Retry-After on another status, e.g. 503)."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._hold_until:
                self._hold_until = until
                self._hold += 1

    def _note_budget(self, now: float, budget: Budget) -> None:
        """Keep the answers that tell the site's budget while it is not full (a full one overflows)."""
        self._total += 1
        if budget.remaining is None or not budget.limit:
            return
        if budget.remaining >= budget.limit - 1:
            self._budget.clear()
            return
        self._budget.append((now, budget.remaining, self._total))
        while self._budget and self._budget[0][0] < now - ESTIMATE_SPAN:
            self._budget.popleft()

    def _refill_rate(self) -> float | None:
        """The site's refill rate: answers accepted plus the change of Remaining, per second."""
        if len(self._budget) < 2:
            return None
        (start, first, before), (end, last, after) = self._budget[0], self._budget[-1]
        if end - start < MIN_SPAN:
            return None
        return (after - before + last - first) / (end - start)

    def _cut(self, now: float, factor: float, *, floor: float = MIN_RATE) -> None:
        """Lower the rate to ``factor`` times the accepted rate, or the current one if lower (from
        unpaced: the accepted rate, and slow start begins there)."""
        self._forget(now)
        measured = len(self._accepted) / WINDOW
        self._starting = self._rate is None
        current = self._rate if self._rate is not None else measured
        self._rate = max(MIN_RATE, floor, factor * min(current, measured))
        if self._starting:
            self._began = self._rate
        self._epoch += 1
        self._last_cut = now
        self.cuts += 1

    def _set(self, now: float, rate: float) -> None:
        """Set the rate to the site's measured refill rate (ends slow start)."""
        self._starting = False
        self._rate = max(MIN_RATE, rate)
        self._epoch += 1
        self._last_cut = now
        self.cuts += 1

    def _forget(self, now: float) -> None:
        while self._accepted and self._accepted[0] <= now - WINDOW:
            self._accepted.popleft()
