"""A simulated DC site: state, lock, knobs, counters, the log of requests, persistence hooks."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reconciler.sandbox.datacenter.state import DcState
from reconciler.sandbox.faults import Clock, FaultInjector, RateLimiter
from reconciler.sandbox.site import write_atomically

BLOCKED_RETRY_AFTER = "9223372036854775807"  # Long.MAX_VALUE, sent to blocked users (A.9 #8)


@dataclass
class DcKnobs:
    """Behaviour of a running DC site (not persisted). Defaults follow evidence/datacenter.md A.13."""

    latency_ms: float = 0.0
    rate_limit: float = 0.0  # tokens per second ("Requests allowed"); 0 = no rate limiting
    burst: int | None = None  # "Max requests" (bucket size)
    blocked_users: frozenset[str] = field(default_factory=frozenset)  # usernames limited to 0
    fault_rate: float = 0.0
    fault_seed: int = 0
    fault_kinds: tuple[str, ...] = ("500", "502", "503", "drop")
    non_admin_status: int = 500  # CS-99908; 403 models a fixed server
    bad_pat_is_anonymous: bool = True  # CS-98199
    anonymous_shape: str = "flat"  # flat | nested (ONYX: varies by patch)
    inline_anonymous_in_get_all: bool = False  # UNVERIFIED whether GET …/permissions lists anonymous
    paging_quirk: bool = True  # CS-95312: a start past the end still returns a record
    atomic_post: bool = True  # UNVERIFIED: a POST applies all subjects or none
    protect_last_admin: bool = False  # SPO59: DC itself does not protect the last admin
    require_read: bool = True  # UNVERIFIED (A.8): any other permission needs read/space, as in the UI
    remote_api_off_status: int = 404  # TFDC 404/405; ONYX saw 401


class DcSite:
    """One DC site behind both front doors (in-process transport, loopback server)."""

    platform = "datacenter"

    def __init__(
        self, state: DcState, knobs: DcKnobs | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        self.state = state
        self.lock = threading.RLock()
        self.clock = clock
        self.on_write: Callable[[DcSite], None] | None = None
        self.before_request: Callable[[], None] | None = None
        self._counters: Counter[str] = Counter()
        self._requests: list[tuple[str, str]] = []
        self.knobs = DcKnobs()
        self.limiters: dict[str, RateLimiter] = {}
        self.injector = FaultInjector(0.0, 0)
        self.configure(knobs or DcKnobs())

    @property
    def name(self) -> str:
        return self.state.name

    def configure(self, knobs: DcKnobs) -> None:
        with self.lock:
            self.knobs = knobs
            self.limiters = {}
            self.injector = FaultInjector(knobs.fault_rate, knobs.fault_seed, knobs.fault_kinds)

    def limiter_for(self, username: str) -> RateLimiter | None:
        """DC limits per user (token bucket, RL-DC)."""
        if self.knobs.rate_limit <= 0:
            return None
        with self.lock:
            if username not in self.limiters:
                self.limiters[username] = RateLimiter(self.knobs.rate_limit, self.knobs.burst, self.clock)
            return self.limiters[username]

    # ------------------------------------------------------------------------------ counters, log
    def record(self, method: str, path: str, template: str) -> None:
        with self.lock:
            self._counters[f"{method} {template}"] += 1
            self._requests.append((method, path))

    @property
    def counters(self) -> dict[str, int]:
        with self.lock:
            return dict(sorted(self._counters.items()))

    @property
    def requests(self) -> list[tuple[str, str]]:
        """Every API request received, in order: (method, path without the query)."""
        with self.lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self.lock:
            return len(self._requests)

    def reset_counters(self) -> None:
        with self.lock:
            self._counters.clear()
            self._requests.clear()

    # ------------------------------------------------------------------------------ state
    @contextmanager
    def reading(self) -> Iterator[DcState]:
        with self.lock:
            yield self.state

    @contextmanager
    def writing(self) -> Iterator[DcState]:
        with self.lock:
            yield self.state
            if self.on_write is not None:
                self.on_write(self)

    def replace_state(self, state: DcState) -> None:
        with self.lock:
            self.state = state

    def to_json_text(self) -> str:
        with self.lock:
            return json.dumps(self.state.to_json(), separators=(",", ":"))

    def save(self, path: Path) -> None:
        write_atomically(path, self.to_json_text())

    def describe_knobs(self) -> dict[str, object]:
        data = asdict(self.knobs)
        data["blocked_users"] = sorted(self.knobs.blocked_users)
        data["fault_kinds"] = list(self.knobs.fault_kinds)
        return data
