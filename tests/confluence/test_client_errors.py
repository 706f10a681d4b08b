"""Error translation, read-only mode, secrets, headers and bounded concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest
import respx

from reconciler.confluence.client import ConfluenceClient
from reconciler.errors import ApiError, AuthError, NotFoundError, ReadOnlyViolationError
from tests.kit.sites import site_client as open_client

from .conftest import SITE

ROLE_ASSIGNMENTS = "/wiki/api/v2/spaces/98305/role-assignments"
TOKEN = "ATATT3xFfGF0-very-secret-token-value"


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(
                404,
                json={"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]},
            ),
            NotFoundError,
            "GET /wiki/api/v2/spaces/98305/role-assignments (space ENG): 404: Not Found",
        ),
        (
            httpx.Response(
                404,
                json={
                    "statusCode": 404,
                    "data": {"authorized": False},
                    "reason": "Not Found",
                    "message": "No space with key : ENG",
                },
            ),
            NotFoundError,
            (
                "GET /wiki/api/v2/spaces/98305/role-assignments (space ENG): 404: Not Found: "
                "No space with key : ENG"
            ),
        ),
        (
            httpx.Response(
                403,
                json={
                    "errors": [
                        {
                            "status": 403,
                            "code": "FORBIDDEN",
                            "title": "Forbidden",
                            "detail": "not a space admin",
                        }
                    ]
                },
            ),
            AuthError,
            "GET /wiki/api/v2/spaces/98305/role-assignments (space ENG): 403: Forbidden: not a space admin",
        ),
        (
            httpx.Response(400, text="bad limit", headers={"Content-Type": "text/plain"}),
            ApiError,
            "GET /wiki/api/v2/spaces/98305/role-assignments (space ENG): 400: Bad Request: bad limit",
        ),
        (
            httpx.Response(400, text="<html><body>Oops</body></html>", headers={"Content-Type": "text/html"}),
            ApiError,
            "GET /wiki/api/v2/spaces/98305/role-assignments (space ENG): 400: Bad Request",
        ),
    ],
    ids=["v2 envelope", "v1 envelope", "403 is an auth error", "plain text", "html body ignored"],
)
def test_a_failed_call_becomes_one_error_naming_method_path_status_detail_and_space(
    api: respx.MockRouter,
    make_client: Callable[..., ConfluenceClient],
    response: httpx.Response,
    error: type[ApiError],
    message: str,
) -> None:
    api.get(ROLE_ASSIGNMENTS).mock(return_value=response)

    with pytest.raises(ApiError) as exc:
        make_client().get_json(ROLE_ASSIGNMENTS, {"limit": 250, "cursor": "abc"}, space="ENG")

    assert type(exc.value) is error
    assert str(exc.value) == message
    assert (exc.value.method, exc.value.status, exc.value.space) == ("GET", response.status_code, "ENG")


def test_a_read_only_client_refuses_a_write_before_sending_it(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    route = api.post(ROLE_ASSIGNMENTS).mock(return_value=httpx.Response(200, json={}))
    client = make_client(read_only=True)

    with pytest.raises(ReadOnlyViolationError) as exc:
        client.post_json(ROLE_ASSIGNMENTS, [], space="ENG")
    with pytest.raises(ReadOnlyViolationError):
        client.delete("/wiki/rest/api/space/ENG/permission/1")
    with pytest.raises(ReadOnlyViolationError):
        client.put_json("/wiki/api/v2/space-roles/r1", {})

    assert str(exc.value) == (
        "refused POST /wiki/api/v2/spaces/98305/role-assignments (space ENG): the client is read-only "
        "(plan and drift never write)"
    )
    assert route.call_count == 0
    assert client.request_count == 0


def test_the_token_never_appears_in_an_error_a_repr_or_a_log(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    api.get("/wiki/api/v2/space-role-mode").mock(
        return_value=httpx.Response(
            401, json={"code": 401, "message": f"Unauthorized; token {TOKEN} is not valid"}
        )
    )
    env = {"CONFLUENCE_EMAIL": "bot@acme.example", "CONFLUENCE_API_TOKEN": TOKEN}

    with open_client(SITE, read_only=True, env=env) as client:
        with pytest.raises(AuthError) as exc:
            client.get_json("/wiki/api/v2/space-role-mode")
        shown = [str(exc.value), repr(exc.value), repr(client), caplog.text]

    assert str(exc.value) == (
        "GET /wiki/api/v2/space-role-mode: 401: Unauthorized; token *** is not valid; "
        "check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN"
    )
    assert not any(TOKEN in text for text in shown)


def test_a_bearer_token_never_appears_in_a_repr(api: respx.MockRouter) -> None:
    env = {"CONFLUENCE_BEARER_TOKEN": TOKEN}
    with open_client("https://api.atlassian.com/ex/confluence/c1", read_only=True, env=env) as client:
        assert TOKEN not in repr(client)
        assert TOKEN not in repr(client._http.auth)


def test_every_request_carries_the_user_agent_and_the_credentials(
    api: respx.MockRouter,
) -> None:
    route = api.get("/wiki/api/v2/space-role-mode").mock(
        return_value=httpx.Response(200, json={"mode": "ROLES"})
    )
    env = {"CONFLUENCE_EMAIL": "bot@acme.example", "CONFLUENCE_API_TOKEN": TOKEN}

    with open_client(SITE, read_only=True, env=env) as client:
        client.get_json("/wiki/api/v2/space-role-mode")

    request = route.calls[0].request
    assert request.headers["User-Agent"] == "reconciler/0.1.0"
    assert request.headers["Authorization"] == httpx.BasicAuth("bot@acme.example", TOKEN)._auth_header


def test_concurrent_reads_return_results_in_input_order_within_the_worker_bound(
    make_client: Callable[..., ConfluenceClient],
) -> None:
    client = make_client(concurrency=4)
    lock = threading.Lock()
    active = [0, 0]  # now, peak

    def work(n: int) -> int:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.002)
        with lock:
            active[0] -= 1
        return n * n

    assert client.map_concurrently(work, range(40)) == [n * n for n in range(40)]
    assert 1 <= active[1] <= 4


def test_concurrent_reads_stop_and_raise_the_first_error(
    make_client: Callable[..., ConfluenceClient],
) -> None:
    client = make_client(concurrency=4)
    started: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
        if n == 3:
            raise NotFoundError("GET", "/wiki/api/v2/spaces/3/permissions", 404, "Not Found", space="S3")
        time.sleep(0.01)
        return n

    with pytest.raises(NotFoundError) as exc:
        client.map_concurrently(work, range(200))

    assert str(exc.value) == "GET /wiki/api/v2/spaces/3/permissions (space S3): 404: Not Found"
    assert len(started) < 200  # the rest were cancelled, not run
