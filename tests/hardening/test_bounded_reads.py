"""Bounded reads (issue 14 §6): endless pagination stops with one error naming the call, a trickled answer
is bounded by a per-request deadline, and a whole run by a time limit. Time is a fake clock, never slept."""
# ruff: noqa: E501 - expected messages are compared whole

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.confluence import paging
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.retry import RetryPolicy
from reconciler.errors import ApiError, TransportError, UsageError
from tests.kit.sites import site_client as open_client

SITE = "https://acme.atlassian.net"
SPACES = "/wiki/api/v2/spaces"
GROUPS = "/wiki/rest/api/group"


class Clock:
    """A clock only the test moves; sleeping moves it too (and is recorded)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _client(handler: Any, clock: Clock | None = None, **kwargs: Any) -> ConfluenceClient:
    clock = clock or Clock()
    return ConfluenceClient(SITE, transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep,
                            retry=kwargs.pop("retry", RetryPolicy()), **kwargs)


class Calls(list[httpx.Request]):
    pass


def test_a_site_that_hands_out_a_new_cursor_with_the_same_items_stops_at_the_first_repeat() -> None:
    calls = Calls()
    cursors = itertools.count()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"results": [{"id": "1"}, {"id": "2"}],
                                         "_links": {"next": f"{SPACES}?cursor=c{next(cursors)}"}})

    with _client(handler) as client, pytest.raises(ApiError) as caught:
        list(client.paginate(SPACES, space="ENG"))
    assert str(caught.value) == (
        "GET /wiki/api/v2/spaces (space ENG): 200: pagination did not advance: page 2 repeats an earlier page")
    assert len(calls) == 2


def test_a_site_whose_pages_never_end_stops_after_the_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "MAX_PAGES", 5)
    calls = Calls()
    counter = itertools.count()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        n = next(counter)
        return httpx.Response(200, json={"results": [{"id": str(n)}], "_links": {"next": f"{SPACES}?cursor={n}"}})

    with _client(handler) as client, pytest.raises(ApiError) as caught:
        list(client.paginate(SPACES))
    assert str(caught.value) == "GET /wiki/api/v2/spaces: 200: pagination did not end after 5 pages"
    assert len(calls) == 6


def test_empty_pages_that_always_name_a_next_page_stop_after_ten() -> None:
    calls = Calls()
    counter = itertools.count()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"results": [], "_links": {"next": f"{SPACES}?cursor={next(counter)}"}})

    with _client(handler) as client, pytest.raises(ApiError) as caught:
        list(client.paginate(SPACES))
    assert str(caught.value) == (
        "GET /wiki/api/v2/spaces: 200: pagination did not end: 10 empty pages in a row each named a next page")
    assert len(calls) == 11


def test_a_v1_list_that_ignores_the_offset_and_repeats_its_page_stops_at_the_repeat() -> None:
    calls = Calls()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        start = int(request.url.params["start"])
        return httpx.Response(200, json={"results": [{"id": "g1"}, {"id": "g2"}], "start": start, "size": 2,
                                         "limit": 2, "_links": {"next": f"{GROUPS}?start={start + 2}"}})

    with _client(handler) as client, pytest.raises(ApiError) as caught:
        list(client.paginate_v1(GROUPS, {"limit": 2}))
    assert str(caught.value) == "GET /wiki/rest/api/group: 200: pagination did not advance: page 2 repeats an earlier page"
    assert [int(c.url.params["start"]) for c in calls] == [0, 2]


def test_a_v1_list_whose_offset_goes_back_stops_at_once() -> None:
    calls = Calls()
    counter = itertools.count()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        n = next(counter)
        return httpx.Response(200, json={"results": [{"id": f"g{n}"}], "start": 0, "size": 1, "limit": 1,
                                         "_links": {"next": "/x"}})

    with _client(handler) as client, pytest.raises(ApiError) as caught:
        list(client.paginate_v1(GROUPS, {"limit": 1, "start": 5}))
    assert str(caught.value) == "GET /wiki/rest/api/group: 200: pagination did not advance: offset 1 after 5"
    assert len(calls) == 1


class Trickle(httpx.SyncByteStream):
    """An answer sent one byte at a time, each byte 5 seconds after the previous one (on the fake clock)."""

    def __init__(self, clock: Clock, body: bytes) -> None:
        self.clock = clock
        self.body = body
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for byte in self.body:
            self.clock.now += 5.0
            self.sent += 1
            yield bytes([byte])


def test_an_answer_trickled_byte_by_byte_is_cut_at_the_request_deadline_without_retrying() -> None:
    clock = Clock()
    streams: list[Trickle] = []

    def handler(request: httpx.Request) -> httpx.Response:
        streams.append(Trickle(clock, b'{"results": [' + b'{"id": "1"},' * 1000 + b'{"id": "2"}]}'))
        return httpx.Response(200, stream=streams[-1], headers={"Content-Type": "application/json"})

    with _client(handler, clock, request_deadline=60.0) as client, pytest.raises(TransportError) as caught:
        client.get_json(SPACES, space="ENG")
    assert str(caught.value) == (
        "GET /wiki/api/v2/spaces (space ENG): no response: acme.atlassian.net did not send its whole answer "
        "within 60s (RECONCILER_REQUEST_DEADLINE)")
    assert len(streams) == 1  # not retried: a retry could trickle as long again
    assert streams[0].sent == 13  # stopped at the first byte past the deadline, not at the end of the body


def test_an_answer_within_the_deadline_is_read_whole() -> None:
    clock = Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle(clock, b'{"ok": 1}'), headers={"Content-Type": "application/json"})

    with _client(handler, clock, request_deadline=60.0) as client:
        assert client.get_json(SPACES) == {"ok": 1}


def test_no_request_starts_after_the_run_time_limit() -> None:
    clock = Clock()
    calls = Calls()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        clock.now += 400.0  # each answer takes 400 s
        return httpx.Response(200, json={"ok": True})

    with _client(handler, clock, run_deadline=1000.0) as client:
        for _ in range(3):
            client.get_json(SPACES)
        with pytest.raises(TransportError) as caught:
            client.get_json(SPACES, space="HR")
    assert str(caught.value) == (
        "GET /wiki/api/v2/spaces (space HR): no response: not sent: the run reached its time limit of 1000s "
        "(RECONCILER_RUN_DEADLINE)")
    assert len(calls) == 3  # 0 s, 400 s, 800 s; the fourth would start at 1200 s


def test_retries_do_not_wait_past_the_run_time_limit() -> None:
    clock = Clock()
    calls = Calls()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, headers={"Retry-After": "30"})

    with _client(handler, clock, run_deadline=100.0) as client, pytest.raises(ApiError) as caught:
        client.get_json(SPACES)
    assert str(caught.value).startswith("GET /wiki/api/v2/spaces: 503: Service Unavailable (after 4 attempts)")
    assert clock.slept == [30.0, 30.0, 30.0]  # a fourth wait would end past 100 s
    assert len(calls) == 4


@pytest.mark.parametrize(("name", "value", "message"), [
    ("RECONCILER_REQUEST_DEADLINE", "0", "RECONCILER_REQUEST_DEADLINE must be a number of seconds from 1 to 3600, not '0'"),
    ("RECONCILER_RUN_DEADLINE", "soon", "RECONCILER_RUN_DEADLINE must be a number of seconds from 1 to 604800, not 'soon'"),
])
def test_the_deadlines_are_set_from_the_environment_and_checked(name: str, value: str, message: str) -> None:
    env = {"CONFLUENCE_EMAIL": "a@example.com", "CONFLUENCE_API_TOKEN": "tok-123", name: value}
    with pytest.raises(UsageError) as caught:
        open_client(SITE, read_only=True, env=env, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert str(caught.value) == message
