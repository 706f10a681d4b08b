"""A sandbox site: its state, a lock, its knobs, request counters, read lag and JSON persistence.

The rules live in :mod:`reconciler.sandbox.rules`; the HTTP surface in :mod:`reconciler.sandbox.api`.
Both front doors (the in-process httpx transport and the loopback server) call the same
``api.handle(site, request)``, so they behave identically.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.sandbox.faults import Clock, FaultInjector, Knobs, RateLimiter
from reconciler.sandbox.state import SiteState


class Site:
    """One simulated Confluence Cloud site (plus its org, for the Admin API)."""

    def __init__(
        self, state: SiteState, knobs: Knobs | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        self.state = state
        self.lock = threading.RLock()
        self.clock = clock
        self.on_write: Callable[[Site], None] | None = None  # called (under the lock) after each write
        self.before_request: Callable[[], None] | None = None  # called before each API request
        self._counters: Counter[str] = Counter()
        self._throttled = 0
        self._first_at: float | None = None  # wall-clock time of the first request counted since a reset
        self._last_at: float | None = None  # ... and of the last one
        self._history: deque[tuple[float, SiteState]] = deque()  # (write time, state just before it)
        self.knobs = Knobs()
        self.limiter: RateLimiter | None = None
        self.injector = FaultInjector(0.0, 0)
        self.configure(knobs or Knobs())

    @property
    def name(self) -> str:
        return self.state.name

    def configure(self, knobs: Knobs) -> None:
        """Replace the knobs (rate limiter and fault generator start afresh)."""
        with self.lock:
            self.knobs = knobs
            self.limiter = (
                RateLimiter(knobs.rate_limit, knobs.burst, self.clock) if knobs.rate_limit > 0 else None
            )
            self.injector = FaultInjector(knobs.fault_rate, knobs.fault_seed, knobs.fault_kinds)
            self._history.clear()

    # ------------------------------------------------------------------------------------ counters
    @property
    def counters(self) -> dict[str, int]:
        """Requests received, by ``"METHOD /path/template"`` (a copy)."""
        with self.lock:
            return dict(sorted(self._counters.items()))

    @property
    def request_count(self) -> int:
        with self.lock:
            return sum(self._counters.values())

    @property
    def throttled(self) -> int:
        """Requests answered 429 by the rate limit."""
        with self.lock:
            return self._throttled

    def count_throttled(self) -> None:
        with self.lock:
            self._throttled += 1

    @property
    def first_at(self) -> float | None:
        """When the first request counted since the last reset arrived (``time.time()``: comparable
        with another process's clock, so a benchmark can time a process's start to its first request)."""
        with self.lock:
            return self._first_at

    @property
    def last_at(self) -> float | None:
        """When the last request counted since the last reset arrived (``time.time()``, as ``first_at``):
        a benchmark splits a process's time into before the first request, the reads, and after the last."""
        with self.lock:
            return self._last_at

    def count(self, key: str) -> None:
        with self.lock:
            self._last_at = time.time()
            if self._first_at is None:
                self._first_at = self._last_at
            self._counters[key] += 1

    def reset_counters(self) -> None:
        with self.lock:
            self._counters.clear()
            self._throttled = 0
            self._first_at = self._last_at = None

    # ------------------------------------------------------------------------------ state access
    @contextmanager
    def reading(self) -> Iterator[SiteState]:
        """The state a read sees: with ``read_lag_ms``, the state before writes younger than the lag."""
        with self.lock:
            yield self._lagged()

    @contextmanager
    def writing(self) -> Iterator[SiteState]:
        """The live state, for a write; on success the pre-write state is kept for read lag and saved."""
        with self.lock:
            before = copy.deepcopy(self.state) if self.knobs.read_lag_ms > 0 else None
            yield self.state
            if before is not None:
                self._history.append((self.clock(), before))
            if self.on_write is not None:
                self.on_write(self)

    def _lagged(self) -> SiteState:
        lag = self.knobs.read_lag_ms / 1000.0
        if lag <= 0 or not self._history:
            return self.state
        horizon = self.clock() - lag
        while self._history and self._history[0][0] <= horizon:
            self._history.popleft()
        return self._history[0][1] if self._history else self.state

    # ------------------------------------------------------------------------------ persistence
    def to_json_text(self) -> str:
        with self.lock:
            return json.dumps(self.state.to_json(), separators=(",", ":"))

    def save(self, path: Path) -> None:
        write_atomically(path, self.to_json_text())

    @classmethod
    def load(cls, path: Path, knobs: Knobs | None = None) -> Site:
        return cls(load_state(path), knobs)

    def replace_state(self, state: SiteState) -> None:
        with self.lock:
            self.state = state
            self._history.clear()


def load_state(path: Path) -> SiteState:
    return SiteState.from_json(json.loads(path.read_text(encoding="utf-8")))


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (temp file + rename) so a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
