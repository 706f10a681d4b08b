"""When to retry a request, and how long to wait first.

The policy (docs/configuration.md):

- A ``GET`` is retried on 429, 500, 502, 503, 504 and on any transport error: a read has no side effect.
- A write (``POST``, ``PUT``, ``DELETE``) is retried only when it certainly had no effect: a 429 (the site
  refused it before doing anything) or a connection that could not be opened (nothing was sent). A 5xx,
  a timeout or a dropped connection after sending leaves the outcome unknown: the error is raised and the
  caller re-reads the live state instead of repeating the write.
- The wait is the ``Retry-After`` header when there is one (seconds or an HTTP date), otherwise an
  exponential backoff with jitter. A ``Retry-After`` holds back every request of the client, not only the
  one refused, so concurrent workers do not all run into the same limit.
- A ``Retry-After`` larger than a day is clamped to a day (Data Center sends 9223372036854775807 to a
  user its rate limiter blocks, evidence/datacenter.md A.9 #8); it then ends the retries like any wait
  past the budget.
- Retries are bounded in count and in total time: a wait that would go past the budget ends the retries
  and raises the last error. 429s have their own, larger count (the site pacing us, not failing). A
  connection that cannot be opened at all (DNS failure, connection refused) is retried at most
  ``max_connect_retries`` times, so an unreachable site fails in about two seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

READ_RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
WRITE_RETRY_STATUSES: frozenset[int] = frozenset({429})

# Transport errors raised before any byte of the request reached the site.
_NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds for retries; every field can be set from the environment (see ``endpoint.open_client``)."""

    max_retries: int = 5  # retries after the first attempt
    max_connect_retries: int = 2  # retries of a connection that could not be opened (DNS, refused)
    max_throttled_retries: int = 20  # retries after a 429, counted apart: the site pacing us, not failing
    max_total_seconds: float = 120.0  # total time spent waiting between attempts, at most
    base_delay: float = 0.5  # first backoff delay without Retry-After
    max_delay: float = 30.0  # cap of one backoff delay without Retry-After
    jitter: tuple[float, float] = (0.7, 1.3)  # multiplier range applied to a backoff delay

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The delay before retry number ``retry`` (1-based) when the site gave no Retry-After."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        low, high = self.jitter
        return delay * rng.uniform(low, high)


MAX_RETRY_AFTER = 86400.0  # seconds; larger values (Long.MAX on DC) are clamped to this


def is_idempotent(method: str) -> bool:
    return method.upper() in {"GET", "HEAD", "OPTIONS"}


def status_is_retryable(method: str, status: int) -> bool:
    allowed = READ_RETRY_STATUSES if is_idempotent(method) else WRITE_RETRY_STATUSES
    return status in allowed


def transport_error_is_retryable(method: str, exc: httpx.TransportError) -> bool:
    return is_idempotent(method) or isinstance(exc, _NOT_SENT)


def retry_limit(policy: RetryPolicy, exc: httpx.TransportError | None) -> int:
    """How many retries this failure allows: fewer when the site cannot be reached at all."""
    if exc is not None and isinstance(exc, _NOT_SENT):
        return min(policy.max_retries, policy.max_connect_retries)
    return policy.max_retries


def request_was_sent(exc: httpx.TransportError) -> bool:
    """False when the connection could not even be opened: the site never saw the request."""
    return not isinstance(exc, _NOT_SENT)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(text)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return min(MAX_RETRY_AFTER, max(0.0, (when - current).total_seconds()))


@dataclass(slots=True)
class Tries:
    """Retries of one request so far."""

    errors: int = 0  # after a 5xx or a transport error
    throttled: int = 0  # after a 429
    waited: float = 0.0  # seconds slept before retries

    @property
    def retries(self) -> int:
        return self.errors + self.throttled
