"""Retries: Retry-After honoured, exponential backoff with jitter, bounded in count and time, writes safe."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.retry import RetryPolicy, parse_retry_after
from reconciler.errors import ApiError, TransportError

from .conftest import Sleeps

SPACES = "/wiki/api/v2/spaces"
OK = httpx.Response(200, json={"results": []})


def test_get_retries_a_429_after_the_retry_after_seconds(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    route = api.get(SPACES).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), OK])
    client = make_client()

    assert client.get_json(SPACES) == {"results": []}
    assert sleeps == [3.0]
    assert route.call_count == 2
    assert client.request_count == 2
    assert client.request_counts == {"GET": 2}


def test_get_honours_a_retry_after_http_date(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    api.get(SPACES).mock(side_effect=[httpx.Response(503, headers={"Retry-After": when}), OK])

    make_client().get_json(SPACES)

    assert len(sleeps) == 1
    assert 30 < sleeps[0] <= 40


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("2.5", 2.5),
        ("Wed, 21 Oct 2026 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # in the past: retry at once
        ("soon", None),
        ("", None),
        (None, None),
    ],
    ids=["seconds", "zero", "fraction", "http date", "date in the past", "garbage", "empty", "absent"],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(value: str | None, expected: float | None) -> None:
    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


def test_backoff_without_retry_after_doubles_with_jitter_and_stops_after_max_retries(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    route = api.get(SPACES).mock(return_value=httpx.Response(503))
    client = make_client(retry=RetryPolicy(max_retries=4, base_delay=1.0, max_delay=5.0))

    with pytest.raises(ApiError) as exc:
        client.get_json(SPACES)

    assert str(exc.value) == "GET /wiki/api/v2/spaces: 503: Service Unavailable (after 5 attempts)"
    assert route.call_count == 5
    nominal = [1.0, 2.0, 4.0, 5.0]  # doubled, capped at max_delay
    assert len(sleeps) == 4
    for slept, base in zip(sleeps, nominal, strict=True):
        assert base * 0.7 <= slept <= base * 1.3


def test_retries_stop_when_the_next_wait_would_exceed_the_time_budget(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    route = api.get(SPACES).mock(return_value=httpx.Response(429, headers={"Retry-After": "50"}))
    client = make_client(retry=RetryPolicy(max_retries=10, max_total_seconds=120))

    with pytest.raises(ApiError) as exc:
        client.get_json(SPACES)

    assert sleeps == [50.0, 50.0]
    assert route.call_count == 3
    assert str(exc.value) == (
        "GET /wiki/api/v2/spaces: 429: Too Many Requests (after 3 attempts) "
        "(the site asked to wait 50s more, past the retry budget)"
    )


def test_get_is_retried_after_a_dropped_connection(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    route = api.get(SPACES).mock(side_effect=[httpx.RemoteProtocolError("peer closed connection"), OK])

    assert make_client().get_json(SPACES) == {"results": []}
    assert route.call_count == 2
    assert len(sleeps) == 1


def test_get_retries_a_500_but_gives_up_when_it_persists(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    api.get(SPACES).mock(
        return_value=httpx.Response(
            500, json={"errors": [{"title": "Internal Server Error", "detail": "boom"}]}
        )
    )
    client = make_client(retry=RetryPolicy(max_retries=2))

    with pytest.raises(ApiError) as exc:
        client.get_json(SPACES, space="ENG")

    assert str(exc.value) == (
        "GET /wiki/api/v2/spaces (space ENG): 500: Internal Server Error: boom (after 3 attempts)"
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_is_never_retried_after_a_server_error(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps, status: int
) -> None:
    route = api.post("/wiki/rest/api/space/ENG/permission").mock(return_value=httpx.Response(status))

    with pytest.raises(ApiError) as exc:
        make_client().post_json("/wiki/rest/api/space/ENG/permission", {"subject": {}}, space="ENG")

    assert route.call_count == 1
    assert sleeps == []
    assert exc.value.status == status


def test_a_post_whose_connection_broke_after_sending_is_not_retried(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    route = api.post("/wiki/api/v2/spaces/1/role-assignments").mock(
        side_effect=httpx.ReadTimeout("timed out")
    )

    with pytest.raises(TransportError) as exc:
        make_client().post_json("/wiki/api/v2/spaces/1/role-assignments", [], space="ENG")

    assert route.call_count == 1
    assert str(exc.value) == (
        "POST /wiki/api/v2/spaces/1/role-assignments (space ENG): no response: acme.atlassian.net did not "
        "answer in time: timed out (the outcome of this write is unknown: re-read before retrying)"
    )


@pytest.mark.parametrize(
    "first",
    [httpx.Response(429, headers={"Retry-After": "1"}), httpx.ConnectError("connection refused")],
    ids=["429 (refused before doing anything)", "connection never opened"],
)
def test_a_write_is_retried_only_when_it_certainly_had_no_effect(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], first: object
) -> None:
    route = api.delete("/wiki/rest/api/space/ENG/permission/12").mock(
        side_effect=[first, httpx.Response(204)]
    )

    make_client().delete("/wiki/rest/api/space/ENG/permission/12", space="ENG")

    assert route.call_count == 2


def test_an_unreachable_site_is_one_line_naming_the_host(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    api.get("/wiki/api/v2/space-role-mode").mock(
        side_effect=httpx.ConnectError("[Errno 111] Connection refused")
    )
    client = make_client(retry=RetryPolicy(max_retries=1))

    with pytest.raises(TransportError) as exc:
        client.get_json("/wiki/api/v2/space-role-mode")

    assert str(exc.value) == (
        "GET /wiki/api/v2/space-role-mode: no response: cannot reach acme.atlassian.net: "
        "[Errno 111] Connection refused (after 2 attempts)"
    )


def test_a_site_that_cannot_be_reached_is_retried_only_twice(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    route = api.get(SPACES).mock(side_effect=httpx.ConnectError("Name or service not known"))

    with pytest.raises(TransportError) as exc:
        make_client(retry=RetryPolicy(max_retries=5)).get_json(SPACES)

    assert route.call_count == 3
    assert len(sleeps) == 2
    assert str(exc.value) == (
        "GET /wiki/api/v2/spaces: no response: cannot reach acme.atlassian.net: Name or service not known "
        "(after 3 attempts)"
    )


def test_429s_have_their_own_larger_retry_count(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "1"})
    route = api.get(SPACES).mock(side_effect=[throttled, throttled, throttled, OK])

    assert make_client(retry=RetryPolicy(max_retries=1)).get_json(SPACES) == {"results": []}
    assert route.call_count == 4
    assert sleeps == [1.0, 1.0, 1.0]


def test_a_retry_after_holds_back_the_clients_other_requests(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], sleeps: Sleeps
) -> None:
    refused = threading.Event()

    def first(request: httpx.Request) -> httpx.Response:
        if not refused.is_set():
            refused.set()
            return httpx.Response(429, headers={"Retry-After": "5"})
        return OK

    api.get("/wiki/api/v2/spaces/1/role-assignments").mock(side_effect=first)
    other = api.get("/wiki/api/v2/spaces/2/role-assignments").mock(return_value=OK)
    client = make_client(clock=lambda: 0.0, concurrency=2)  # time stands still: every wait is recorded

    def read(space_id: int) -> object:
        if space_id == 2:
            refused.wait(timeout=5)
            pause = threading.Event()  # never set: a bounded wait until the first worker has set the
            for _ in range(5000):  # hold-off (it then sleeps on it, which ``sleeps`` records)
                if sleeps:
                    break
                pause.wait(0.001)
        return client.get_json(f"/wiki/api/v2/spaces/{space_id}/role-assignments")

    client.map_concurrently(read, [1, 2])

    assert other.call_count == 1  # it waited for the site's time instead of running into the same 429
    # time stands still here: every sleep is the time a request waited for; none starts before the hold
    # (the second is also spaced by the pace: after a 429 with nothing accepted, rate.MIN_RATE)
    assert min(sleeps) == 5.0
