"""How many requests may be in flight at once: adapted to the site, as TCP adapts to a network.

A site that is asked too fast answers 429 with ``Retry-After`` (the client's retry policy, retry.py; the
sandbox models it as a token bucket, docs/sandbox.md). How many requests a real Cloud site allows is not
in our evidence (unverified), so no number is built in: a fixed concurrency would either stay below what
a site allows or keep running into its limit. ``AdaptiveLimit`` starts at ``START`` requests
in flight and:

- grows by one each time a full window of answers (as many as the limit) came back fast, that is
  within twice the fastest answer seen, with no 429 among them ("additive increase");
- halves on a 429, once per window: the 429s of requests sent before the last cut do not cut again
  ("multiplicative decrease"); the ``Retry-After`` wait itself is the client's (``client._hold_off``);
- never goes above ``cap`` (``RECONCILER_CONCURRENCY``, the user's bound) or below one.

Slow answers do not grow it: a site that answers slower as we push harder is already at its pace.
``peak`` and ``cuts`` are reported by the benchmarks.

A slot freed while another thread waits for one is handed over at once: the thread that freed it (its
answer read, and the pacer told about it) waits up to ``HANDOFF_WAIT`` for the waiting thread to take it
before it goes on to decode and convert that answer; not after a 429, whose wait the pacer must hold
first. Without this, Python's GIL stayed with the thread that freed the slot for the
0.5-1 ms of that work (the waiting thread gets it only after 5 ms, ``sys.getswitchinterval``, or when
the holder blocks), so the next request went out that much later and a slot stood idle each time: at
1,000 spaces and 8 slots, 6% of the steady read idle instead of 5% (docs/performance.md, "Latest").
"""

from __future__ import annotations

import math
import threading

START = 8  # requests in flight before anything is known about the site
HANDOFF_WAIT = 0.002  # seconds a thread that freed a slot waits for a waiting thread to take it
FAST = 2.0  # an answer within this multiple of the fastest one seen counts as fast


class AdaptiveLimit:
    def __init__(self, cap: int, *, start: int = START, handoff: float = HANDOFF_WAIT) -> None:
        self.cap = max(1, cap)
        self._handoff = handoff
        self._waiting = 0  # threads waiting for a slot
        self._taken = threading.Event()  # a waiting thread took a slot (since the last hand-over began)
        self._limit = min(self.cap, max(1, start))
        self._in_flight = 0
        self._fastest = math.inf
        self._fast_in_window = 0
        self._epoch = 0  # bumped at every cut: a 429 of an older request does not cut again
        self._cond = threading.Condition()
        self.peak = self._limit
        self.cuts = 0

    @property
    def limit(self) -> int:
        with self._cond:
            return self._limit

    @property
    def in_flight(self) -> int:
        """Slots taken now."""
        with self._cond:
            return self._in_flight

    @property
    def waiting(self) -> int:
        """Threads waiting for a slot now."""
        with self._cond:
            return self._waiting

    def acquire(self) -> int:
        """Wait for a free slot; returns the token to hand back to ``release``."""
        with self._cond:
            self._waiting += 1
            try:
                while self._in_flight >= self._limit:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._in_flight += 1
            self._taken.set()
            return self._epoch

    def release(self, token: int, *, seconds: float | None, throttled: bool = False) -> bool:
        """A request ended: ``seconds`` it took (None: no answer, e.g. a dropped connection). True when a
        waiting thread was woken for the slot freed: the caller then ``hand_over``s, once it has told the
        pacer about the answer (``throttle.Throttle.send``)."""
        with self._cond:
            self._in_flight -= 1
            if throttled:
                if token == self._epoch:
                    self._limit = max(1, self._limit // 2)
                    self._epoch += 1
                    self._fast_in_window = 0
                    self.cuts += 1
            elif seconds is not None:
                self._fastest = min(self._fastest, seconds)
                if seconds <= FAST * self._fastest:
                    self._fast_in_window += 1
                    if self._fast_in_window >= self._limit and self._limit < self.cap:
                        self._limit += 1
                        self._fast_in_window = 0
                        self.peak = max(self.peak, self._limit)
                else:
                    self._fast_in_window = 0
            free = self._limit - self._in_flight
            handing_over = free > 0 and self._waiting > 0
            if handing_over:
                self._taken.clear()
            if free > 0:  # wake as many waiters as may start, not every waiting thread (there can be dozens)
                self._cond.notify(free)
        return handing_over

    def hand_over(self) -> None:
        """Wait until a woken thread took the slot ``release`` freed (``HANDOFF_WAIT`` at most): a blocking
        wait gives the GIL up, so that thread sends its request before this one decodes its answer."""
        self._taken.wait(self._handoff)
