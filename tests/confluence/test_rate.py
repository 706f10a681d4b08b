"""Pacing by rate: unpaced until the site pushes back, then the accepted rate (AIMD), no start before a
Retry-After has elapsed, an early cut to the measured refill rate when the budget headers say it runs low.
Driven by a clock the test moves (and that only the client's sleeps move), never by the wall clock."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import httpx
import pytest

from reconciler.confluence import rate
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.rate import Budget, RatePacer, Turn
from reconciler.confluence.retry import RetryPolicy
from reconciler.confluence.throttle import budget_of
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.site import Site
from reconciler.sandbox.transport import SandboxTransport
from tests.kit.inflight import InFlight


class Clock:
    """Virtual time: moves only when told (``advance``) or when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _start(pacer: RatePacer, clock: Clock) -> Turn:
    """A request's start, as ``Throttle`` waits for it: the clock moves to each time the pacer names."""
    while True:
        turn = pacer.turn()
        clock.now = max(clock.now, turn.at)
        if turn.final and pacer.still_valid(turn):
            return turn


def _accept(pacer: RatePacer, clock: Clock, n: int, *, every: float) -> None:
    for _ in range(n):
        turn = _start(pacer, clock)
        clock.advance(every)
        pacer.accepted(turn)


def test_requests_are_not_paced_until_the_site_pushes_back(clock: Clock) -> None:
    pacer = RatePacer(clock)
    _accept(pacer, clock, 500, every=0.001)
    assert pacer.rate is None
    assert pacer.turn().at == clock.now  # no wait at all


def test_a_429_paces_requests_at_the_rate_the_site_accepted(clock: Clock) -> None:
    pacer = RatePacer(clock)
    _accept(pacer, clock, 20, every=0.05)  # 20 answers in the last second
    pacer.refused(pacer.turn(), retry_after=None)
    assert pacer.rate == pytest.approx(rate.THROTTLED * 20)  # 18 requests/s
    starts = [_start(pacer, clock).at for _ in range(5)]
    assert [b - a for a, b in pairwise(starts)] == pytest.approx([1 / 18] * 4)


def test_the_rate_grows_while_answers_succeed_and_shrinks_on_each_new_429(clock: Clock) -> None:
    pacer = RatePacer(clock)
    _accept(pacer, clock, 20, every=0.05)
    pacer.refused(pacer.turn(), retry_after=None)
    assert pacer.rate == pytest.approx(18.0)
    _accept(pacer, clock, 10, every=0.0)  # slow start after the first cut: SLOW_START per answer
    assert pacer.rate == pytest.approx(18.0 + 10 * rate.SLOW_START)
    clock.advance(5.0)
    _accept(pacer, clock, 40, every=1 / 40)  # 40 answers accepted in the last second
    grown = pacer.rate
    assert grown is not None
    assert grown > 40
    pacer.refused(pacer.turn(), retry_after=None)
    assert pacer.rate == pytest.approx(rate.THROTTLED * 40)  # the accepted rate, lower than the paced one
    _accept(pacer, clock, 50, every=0.0)  # after that, gentle growth: GROWTH per answer
    assert pacer.rate == pytest.approx(rate.THROTTLED * 40 + 50 * rate.GROWTH)
    assert pacer.cuts == 2
    assert pacer.throttled == 2


def test_429s_to_requests_sent_before_the_cut_do_not_cut_again(clock: Clock) -> None:
    pacer = RatePacer(clock)
    _accept(pacer, clock, 30, every=1 / 30)
    in_flight = [pacer.turn() for _ in range(8)]  # sent together, all refused
    for turn in in_flight:
        pacer.refused(turn, retry_after=None)
    assert pacer.rate == pytest.approx(rate.THROTTLED * 30)
    assert (pacer.cuts, pacer.throttled) == (1, 8)
    pacer.refused(pacer.turn(), retry_after=None)  # sent after the cut: cuts again
    assert pacer.cuts == 2


def test_no_turn_starts_before_the_retry_after_has_elapsed(clock: Clock) -> None:
    pacer = RatePacer(clock)
    early = pacer.turn()  # given before the 429 arrived
    assert pacer.still_valid(early)
    refused_at = clock.now
    pacer.refused(pacer.turn(), retry_after=3.0)
    assert not pacer.still_valid(early)  # its holder must take a new turn
    turns = [pacer.turn() for _ in range(5)]
    assert min(turn.at for turn in turns) == refused_at + 3.0
    assert all(turn.at >= refused_at + 3.0 for turn in turns)
    pacer.hold(1.0)  # a shorter hold (a 503's Retry-After) does not shorten it
    assert pacer.hold_until == refused_at + 3.0


def test_a_low_budget_paces_at_the_sites_measured_refill_rate_before_any_429(clock: Clock) -> None:
    """A token bucket of 10 refilled at 40/s, asked at 50/s: Remaining falls by one every five answers."""
    pacer = RatePacer(clock)
    tokens = 10.0
    for _ in range(40):
        turn = _start(pacer, clock)
        clock.advance(1 / 50)
        tokens = min(10.0, tokens + 40 / 50) - 1
        pacer.accepted(turn, Budget(remaining=int(tokens), limit=10))
        if pacer.rate is not None:
            break
    assert pacer.throttled == 0
    assert pacer.rate == pytest.approx(rate.NEAR * 40, rel=0.1)


def test_a_budget_that_stays_low_without_refilling_never_paces_the_client_down(clock: Clock) -> None:
    """Remaining falls by one per answer and is never refilled (a quota, not a bucket): no refill rate."""
    pacer = RatePacer(clock)
    remaining = 900
    for _ in range(300):
        turn = _start(pacer, clock)
        clock.advance(0.01)
        remaining -= 1
        pacer.accepted(turn, Budget(remaining=remaining, limit=10000, near=True))
    assert pacer.rate is None  # still unpaced: only a 429 or a measured refill rate paces
    pacer.refused(_start(pacer, clock), retry_after=1.0)
    paced = pacer.rate
    for _ in range(300):
        turn = _start(pacer, clock)
        remaining -= 1
        pacer.accepted(turn, Budget(remaining=remaining, limit=10000, near=True))
    # a low budget stopped the growth (and ended slow start, no lower than where the 429 put it); it did
    # not lower the rate again and again
    assert pacer.rate == paced


def test_the_budget_headers_are_read_and_anything_else_is_ignored() -> None:
    headers = httpx.Headers({"X-RateLimit-Remaining": "3", "X-RateLimit-Limit": "10",
                             "X-RateLimit-NearLimit": "true"})
    assert budget_of(headers) == Budget(remaining=3, limit=10, near=True)
    assert budget_of(headers).low
    assert budget_of(httpx.Headers({"X-RateLimit-Remaining": "lots", "X-RateLimit-Limit": "-1"})) == Budget()
    assert not Budget(remaining=9, limit=10).low
    assert not Budget().low


# ------------------------------------------------------------------------ the client against the sandbox


SEED = "synthetic:spaces=1000,per_space=1,seed=4"


class Recording(httpx.BaseTransport):
    """The sandbox, with the virtual time of every request and the Retry-After of every 429."""

    def __init__(self, inner: httpx.BaseTransport, clock: Clock) -> None:
        self.inner, self.clock = inner, clock
        self.sent: list[float] = []
        self.refusals: list[tuple[float, float]] = []  # (when, Retry-After)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(self.clock())
        response = self.inner.handle_request(request)
        if response.status_code == 429:
            self.refusals.append((self.clock(), float(response.headers["Retry-After"])))
        return response


def _limited(clock: Clock, *, budget_headers: bool) -> tuple[ConfluenceClient, Site, Recording]:
    """A sandbox allowing 20 requests/s with a burst of 5, on the same virtual clock as the client."""
    site = Site(seed_state(SEED), Knobs(rate_limit=20, burst=5, budget_headers=budget_headers), clock=clock)
    transport = Recording(SandboxTransport(site), clock)
    client = ConfluenceClient("https://sandbox.invalid", auth=httpx.BasicAuth(ADMIN_EMAIL, admin_token(SEED)),
                              transport=transport, read_only=True, concurrency=1, sleep=clock.sleep,
                              clock=clock, rng=random.Random(1), retry=RetryPolicy())
    return client, site, transport


def _read_every_space(client: ConfluenceClient, count: int) -> None:
    client.map_concurrently(lambda n: client.get_json(f"/wiki/api/v2/spaces/{2000000 + n}/role-assignments"),
                            range(1, count + 1))


def test_on_429s_alone_the_client_never_sends_before_retry_after_and_keeps_near_the_limit(
    clock: Clock,
) -> None:
    client, site, transport = _limited(clock, budget_headers=False)  # the site tells its budget only on 429
    started = clock()
    waits: list[tuple[float, str]] = []
    client.on_wait = lambda seconds, why: waits.append((seconds, why))

    _read_every_space(client, 1000)
    client.close()

    assert transport.refusals, "the site pushed back"
    for refused_at, retry_after in transport.refusals:  # the site's time, whole seconds
        assert not [at for at in transport.sent if refused_at < at < refused_at + retry_after]
    assert client.request_count == 1000 + site.throttled  # every extra call is the retry of a 429
    assert client.pacer.throttled == site.throttled
    assert site.request_count == client.request_count
    assert [why for _, why in waits] == ["rate limited (429)"] * site.throttled
    achieved = 1000 / (transport.sent[-1] - started)
    assert site.throttled <= 10
    assert achieved >= 0.8 * 20, f"{achieved:.1f} answers/s of virtual time against a limit of 20/s"


def test_with_budget_headers_the_client_meets_the_limit_once_at_most_and_stays_at_it(clock: Clock) -> None:
    client, site, transport = _limited(clock, budget_headers=True)
    started = clock()

    _read_every_space(client, 1000)
    client.close()

    achieved = 1000 / (transport.sent[-1] - started)
    assert site.throttled <= 1
    assert client.request_count == 1000 + site.throttled
    assert achieved >= 0.9 * 20, f"{achieved:.1f} answers/s of virtual time against a limit of 20/s"


def test_the_cap_reconciler_concurrency_holds_while_pacing_whatever_the_callers(clock: Clock) -> None:
    def answer(calls: int) -> httpx.Response:
        if calls % 40 == 0:
            return httpx.Response(429, headers={"Retry-After": "1"}, json={})
        return httpx.Response(200, json={"ok": True}, headers={"X-RateLimit-Remaining": str(calls % 10),
                                                                "X-RateLimit-Limit": "10"})

    site = InFlight(answer)
    client = ConfluenceClient("https://acme.atlassian.net", transport=httpx.MockTransport(site.handler),
                              concurrency=3, sleep=clock.sleep, clock=clock, rng=random.Random(1))
    with ThreadPoolExecutor(max_workers=8) as callers:  # more callers than the cap
        list(callers.map(lambda n: client.get_json(f"/wiki/api/v2/spaces/{n}"), range(200)))
    client.close()
    assert site.peak <= 3
    assert site.calls == 200 + client.pacer.throttled  # each 429 retried once, nothing else
    assert client.pacer.throttled >= 5


class TickingClock:
    """Real time's habit: every reading is a little later than the one before (1 µs)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        self.now += 1e-6
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_an_unpaced_request_starts_without_sleeping_even_though_the_clock_moved() -> None:
    """No rate known and no Retry-After: no sleep at all (a sleep of a few µs costs ~0.1 ms and the GIL)."""
    from reconciler.confluence.throttle import Throttle

    clock = TickingClock()
    throttle = Throttle(8, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        throttle.send(lambda: httpx.Response(200))
    assert clock.slept == []


def test_a_paced_request_still_sleeps_until_its_turn() -> None:
    from reconciler.confluence.throttle import Throttle

    clock = TickingClock()
    throttle = Throttle(8, clock=clock, sleep=clock.sleep)
    throttle.hold(2.0)  # a Retry-After of 2 s: no start before it has elapsed
    throttle.send(lambda: httpx.Response(200))
    assert len(clock.slept) == 1
    assert 1.99 < clock.slept[0] <= 2.0


def test_ctrl_c_while_a_request_waits_for_its_turn_gives_its_slot_back() -> None:
    """A client kept by a library caller after a Ctrl-C must not have lost a slot of its concurrency."""
    from reconciler.confluence.throttle import Throttle

    clock = TickingClock()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    throttle = Throttle(1, clock=clock, sleep=interrupted)
    throttle.hold(2.0)
    with pytest.raises(KeyboardInterrupt):
        throttle.send(lambda: httpx.Response(200))
    started = threading.Event()
    sender = threading.Thread(target=lambda: (throttle.limit.acquire(), started.set()), daemon=True)
    sender.start()
    assert started.wait(5), "the only slot was never given back"
