"""The sandbox's knobs: latency, a token-bucket rate limit, injected faults by seed, read lag, hidden spaces.

Faults are data (:class:`Knobs`), decided per request by :class:`FaultInjector` from a seeded
``random.Random``, so a sequential client sees the same faults on every run with the same seed.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from reconciler.sandbox import unverified

FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "drop", "slow")
Clock = Callable[[], float]


@dataclass
class Knobs:
    """Per-site behaviour settings (not persisted: they belong to the running site, not its data)."""

    latency_ms: float = 0.0  # how long every API request takes to be answered (``answer_time``)
    rate_limit: float = 0.0  # requests per second (token bucket); 0 = unlimited
    burst: int | None = None  # bucket capacity; default max(1, rate_limit)
    retry_after_s: int | None = None  # override the Retry-After seconds of 429 and 503 (0 allowed)
    budget_headers: bool = True  # X-RateLimit-Limit/-Remaining/-NearLimit on answers other than 429
    fault_rate: float = 0.0  # share of API requests that fail (0..1)
    fault_seed: int = 0
    fault_kinds: tuple[str, ...] = FAULT_KINDS  # which faults to draw from
    slow_ms: float = 1000.0  # extra delay of a "slow" fault
    read_lag_ms: float = 0.0  # reads see the state as it was this long ago (read-after-write lag)
    hidden_spaces: frozenset[str] = field(default_factory=frozenset)  # keys hidden from every caller
    # documented or observed behaviours that can be switched (docs/sandbox.md "Knobs")
    role_task_lag: int = 1  # role update/delete tasks take effect after this many further API requests
    role_mode_not_found: bool = False  # GET space-role-mode answers 404 ([spec]: caller lacks 'Can use')
    xsrf_check: bool = True  # v1 writes without X-Atlassian-Token: no-check answer 403 ([2nd] confluence.js)
    reshape: frozenset[str] = field(default_factory=frozenset)  # reads whose answer shape is changed
    # rules without a source (reconciler/sandbox/unverified.py)
    last_admin_guard: bool = unverified.LAST_ADMIN_GUARD
    refuse_delete_assigned_role: bool = unverified.REFUSE_DELETE_ASSIGNED_ROLE
    custom_role_limit_status: int = unverified.CUSTOM_ROLE_LIMIT_STATUS
    refuse_duplicate_principal: bool = unverified.REFUSE_DUPLICATE_PRINCIPAL
    assignment_clears_permissions: bool = unverified.ASSIGNMENT_CLEARS_PERMISSIONS
    guest_role_limits: bool = unverified.GUEST_ROLE_LIMITS
    # The Admin API's policy operations are deprecated and "may be temporarily disabled" (DAC Admin Control
    # API): 503 or 404 makes every Admin API policy request answer that status until reset to 0.
    admin_api_down: int = 0

    def describe(self) -> dict[str, object]:
        return {
            "latency_ms": self.latency_ms,
            "rate_limit": self.rate_limit,
            "burst": self.burst,
            "retry_after_s": self.retry_after_s,
            "budget_headers": self.budget_headers,
            "fault_rate": self.fault_rate,
            "fault_seed": self.fault_seed,
            "fault_kinds": list(self.fault_kinds),
            "slow_ms": self.slow_ms,
            "read_lag_ms": self.read_lag_ms,
            "hidden_spaces": sorted(self.hidden_spaces),
            "role_task_lag": self.role_task_lag,
            "role_mode_not_found": self.role_mode_not_found,
            "xsrf_check": self.xsrf_check,
            "reshape": sorted(self.reshape),
            "last_admin_guard": self.last_admin_guard,
            "refuse_delete_assigned_role": self.refuse_delete_assigned_role,
            "custom_role_limit_status": self.custom_role_limit_status,
            "refuse_duplicate_principal": self.refuse_duplicate_principal,
            "assignment_clears_permissions": self.assignment_clears_permissions,
            "guest_role_limits": self.guest_role_limits,
            "admin_api_down": self.admin_api_down,
        }


class RateLimiter:
    """A token bucket.  A request made while blocked is refused again with the remaining wait."""

    def __init__(self, rate: float, burst: int | None = None, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.capacity = float(burst if burst is not None else max(1, math.ceil(rate)))
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()
        self.blocked_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float | None:
        """Take a token: ``None`` when allowed, else the seconds until the next request may succeed."""
        with self._lock:
            now = self.clock()
            if now < self.blocked_until:
                return self.blocked_until - now
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return None
            wait = (1.0 - self.tokens) / self.rate
            self.blocked_until = now + wait
            return wait

    @property
    def near_limit(self) -> bool:
        return self.tokens < 0.2 * self.capacity

    @property
    def remaining(self) -> int:
        return int(self.tokens)


class FaultInjector:
    """Draws a fault (or none) per request from a seeded generator."""

    def __init__(self, rate: float, seed: int, kinds: tuple[str, ...] = FAULT_KINDS) -> None:
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {', '.join(sorted(unknown))}")
        self.rate = rate
        self.kinds = kinds
        self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not security
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        if self.rate <= 0 or not self.kinds:
            return None
        with self._lock:
            roll = self._random.random()
            kind = self._random.choice(self.kinds)
        return kind if roll < self.rate else None


def retry_after_seconds(wait: float, override: int | None) -> int:
    return override if override is not None else max(1, math.ceil(wait))


def rate_limit_reset(seconds: int) -> str:
    """``X-RateLimit-Reset``: ISO 8601 ``yyyy-MM-ddTHH:mmZ`` = now + Retry-After."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%MZ")


def answer_time(arrived: float, delay_ms: float) -> float:
    """When the answer to a request that arrived at ``arrived`` (``time.monotonic()``) is due: the latency
    knob is the time a request takes to be answered, as a client observes a site's latency. The sandbox's
    own work for the answer (a Python server sharing the machine with the client under test), and since
    2026-12-03 the formatting of its status line and headers, are done inside that time, not added to it;
    an answer that took longer to make is sent at once (``wait_until``). Before 2026-12-02 the whole
    latency was slept before the work, so every answer took ``latency_ms`` plus the sandbox's ~0.5-1 ms
    (docs/performance.md)."""
    return arrived + delay_ms / 1000.0


def wait_until(when: float | None) -> None:
    """Sleep until ``when`` (``time.monotonic()``; ``Response.not_before``); at once when it is None or past.
    Called by the front doors, once the answer is ready to go out."""
    if when is None:
        return
    remaining = when - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
