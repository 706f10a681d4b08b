"""The adaptive concurrency limit: grows while answers are fast and no 429 arrives, halves on a 429 once
per window, stays within the user's cap. Driven by recorded answer times, never by the wall clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.pace import START, AdaptiveLimit
from tests.kit.inflight import InFlight


def _answer(limit: AdaptiveLimit, n: int, seconds: float = 0.05, *, throttled: bool = False) -> None:
    for _ in range(n):
        limit.release(limit.acquire(), seconds=seconds, throttled=throttled)


def test_limit_starts_at_eight_and_grows_by_one_per_window_of_fast_answers_up_to_the_cap() -> None:
    limit = AdaptiveLimit(cap=12)
    assert limit.limit == START == 8
    _answer(limit, 8)
    assert limit.limit == 9
    _answer(limit, 9 + 10 + 11)
    assert limit.limit == 12
    _answer(limit, 1000)
    assert limit.limit == 12
    assert limit.peak == 12


def test_a_cap_below_the_start_is_the_limit() -> None:
    assert AdaptiveLimit(cap=3).limit == 3
    assert AdaptiveLimit(cap=0).limit == 1


def test_slow_answers_do_not_grow_the_limit() -> None:
    limit = AdaptiveLimit(cap=64)
    _answer(limit, 1, seconds=0.05)  # the fastest answer: 50 ms
    _answer(limit, 500, seconds=0.2)  # four times slower: the site is at its pace
    assert limit.limit == START


def test_a_429_halves_the_limit_once_for_the_requests_in_flight_at_the_time() -> None:
    limit = AdaptiveLimit(cap=64)
    _answer(limit, 8 + 9 + 10 + 11)
    assert limit.limit == 12
    tokens = [limit.acquire() for _ in range(12)]  # twelve requests in flight, all throttled
    for token in tokens:
        limit.release(token, seconds=0.05, throttled=True)
    assert limit.limit == 6
    assert limit.cuts == 1
    _answer(limit, 1, throttled=True)  # a request sent after the cut: cuts again
    assert limit.limit == 3
    for _ in range(5):
        _answer(limit, 1, throttled=True)
    assert limit.limit == 1


def test_acquire_waits_while_the_limit_is_reached() -> None:
    limit = AdaptiveLimit(cap=2, start=2)
    held = [limit.acquire(), limit.acquire()]
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(limit.acquire()))
    waiter.start()
    waiter.join(timeout=0.2)
    assert got == [], "a third request waits for a free slot"
    limit.release(held.pop(), seconds=0.01)
    waiter.join(timeout=5)
    assert len(got) == 1


def test_the_client_in_flight_requests_never_exceed_the_limit_and_a_429_lowers_it(
    make_client: Callable[..., ConfluenceClient],
) -> None:
    def answer(calls: int) -> httpx.Response:
        if calls == 50:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={})
        return httpx.Response(200, json={"ok": True})

    site = InFlight(answer)
    client = make_client(transport=httpx.MockTransport(site.handler), concurrency=16)
    client.map_concurrently(lambda n: client.get_json(f"/wiki/api/v2/spaces/{n}"), range(200))
    assert site.calls == 201  # one retry of the throttled read
    assert site.peak <= 16
    assert client.pace.cuts == 1


def test_the_client_says_what_it_waits_for_before_each_retry(
    make_client: Callable[..., ConfluenceClient],
) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "12"}, json={}),
                    httpx.Response(503, json={}), httpx.Response(200, json={"ok": True})])
    client = make_client(transport=httpx.MockTransport(lambda request: next(answers)))
    waits: list[tuple[float, str]] = []
    client.on_wait = lambda seconds, why: waits.append((round(seconds), why))
    assert client.get_json("/wiki/api/v2/space-role-mode") == {"ok": True}
    assert waits[0] == (12, "rate limited (429)")
    assert waits[1][1] == "503 from the site"
    assert len(waits) == 2


def test_requests_refused_together_are_told_as_one_wait(
    make_client: Callable[..., ConfluenceClient],
) -> None:
    refused: set[str] = set()
    lock = threading.Lock()
    together = threading.Barrier(4, timeout=5)  # the four first attempts are in flight at once

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            first = request.url.path not in refused
            refused.add(request.url.path)
        if first:
            together.wait()
            return httpx.Response(429, headers={"Retry-After": "2"}, json={})
        return httpx.Response(200, json={"ok": True})

    client = make_client(transport=httpx.MockTransport(handler), clock=lambda: 0.0, concurrency=4)
    waits: list[tuple[float, str]] = []
    client.on_wait = lambda seconds, why: waits.append((seconds, why))
    client.map_concurrently(lambda n: client.get_json(f"/wiki/api/v2/spaces/{n}"), range(4))
    assert client.request_count == 8
    assert waits == [(2.0, "rate limited (429)")]  # one line on the display, not four


def test_a_slot_freed_while_a_thread_waits_is_taken_by_it_before_release_returns() -> None:
    """The thread whose answer arrived does not keep the GIL for its decoding while a slot stands free:
    ``hand_over`` returns once the waiting thread took the slot (its request goes out first)."""
    limit = AdaptiveLimit(cap=1, start=1, handoff=30.0)  # a hand-over never times out in this test
    token = limit.acquire()
    done = threading.Event()

    def wait_for_the_slot() -> None:
        held = limit.acquire()
        done.wait()
        limit.release(held, seconds=0.05)

    waiter = threading.Thread(target=wait_for_the_slot)
    waiter.start()
    while limit.waiting == 0:  # the waiter is inside acquire, blocked on the full limit
        threading.Event().wait(0.001)
    assert limit.release(token, seconds=0.05)  # a waiting thread was woken for the slot
    limit.hand_over()
    taken = limit.in_flight  # right as the hand-over ended: the waiter holds the slot it freed
    done.set()
    waiter.join()
    assert taken == 1
    assert limit.in_flight == 0


def test_release_without_a_waiting_thread_wakes_none() -> None:
    limit = AdaptiveLimit(cap=2, start=2, handoff=30.0)
    assert not limit.release(limit.acquire(), seconds=0.05)
    assert limit.limit == 2


def test_a_request_is_made_before_its_thread_waits_for_a_slot(
    make_client: Callable[..., ConfluenceClient],
) -> None:
    """A slot handed over is used at once: the waiting thread parsed the URL and built the request
    before it began to wait, so none of that stands between the freed slot and the next request."""
    client = make_client(transport=httpx.MockTransport(lambda _r: httpx.Response(200, json={})),
                         concurrency=1)
    events: list[str] = []
    build, acquire = client._http.build_request, client._throttle.limit.acquire

    def built(*args: Any, **kwargs: Any) -> httpx.Request:
        request = build(*args, **kwargs)
        events.append(f"built {request.url.path}")
        return request

    def acquired() -> int:
        events.append("waited for a slot")
        return acquire()

    client._http.build_request = built  # type: ignore[method-assign]
    client._throttle.limit.acquire = acquired  # type: ignore[method-assign]
    client.get_json("/wiki/api/v2/spaces/7")
    assert events == ["built /wiki/api/v2/spaces/7", "waited for a slot"]
