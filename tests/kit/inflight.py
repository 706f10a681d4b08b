"""A mock transport handler that counts the requests in flight at once (the peak) and in all."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx


class InFlight:
    """``handler`` for ``httpx.MockTransport``: each request stays in flight ``hold`` seconds (a real wait,
    so other threads overlap it), then gets ``answer(n)``, n counting requests from 1."""

    def __init__(self, answer: Callable[[int], httpx.Response], *, hold: float = 0.001) -> None:
        self._answer = answer
        self._hold = hold
        self._lock = threading.Lock()
        self._now = 0
        self.peak = 0
        self.calls = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self._now += 1
            self.calls += 1
            self.peak = max(self.peak, self._now)
            calls = self.calls
        threading.Event().wait(self._hold)
        with self._lock:
            self._now -= 1
        return self._answer(calls)
