"""Pagination: v2 cursors (``_links.next`` or the ``Link`` header) and v1 offsets."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from reconciler.confluence.client import ConfluenceClient
from reconciler.errors import ApiError

SPACES = "/wiki/api/v2/spaces"
GATEWAY = "https://api.atlassian.com/ex/confluence/c1d2"


def test_v2_pages_follow_the_relative_next_link_until_it_is_absent(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor is None:
            return httpx.Response(
                200,
                json={"results": [{"id": 1}, {"id": 2}], "_links": {"next": f"{SPACES}?cursor=c2&limit=2"}},
            )
        if cursor == "c2":
            return httpx.Response(
                200, json={"results": [{"id": 3}], "_links": {"next": f"{SPACES}?cursor=c3"}}
            )
        return httpx.Response(
            200, json={"results": [], "_links": {"base": "https://acme.atlassian.net/wiki"}}
        )

    route = api.get(SPACES).mock(side_effect=page)

    items = list(make_client().paginate(SPACES, {"limit": 2}))

    assert items == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert [str(call.request.url) for call in route.calls] == [
        "https://acme.atlassian.net/wiki/api/v2/spaces?limit=2",
        "https://acme.atlassian.net/wiki/api/v2/spaces?cursor=c2&limit=2",
        "https://acme.atlassian.net/wiki/api/v2/spaces?cursor=c3",
    ]


def test_v2_pages_fall_back_to_the_link_header(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    link = f'<{SPACES}?cursor=abc>; rel="next", <https://acme.atlassian.net/wiki>; rel="base"'
    api.get(SPACES, params={"cursor": "abc"}).mock(
        return_value=httpx.Response(200, json={"results": [{"id": 2}]})
    )
    api.get(SPACES).mock(
        return_value=httpx.Response(200, json={"results": [{"id": 1}]}, headers={"Link": link})
    )

    assert list(make_client().paginate(SPACES)) == [{"id": 1}, {"id": 2}]


def test_v2_next_links_stay_under_the_gateway_prefix(make_client: Callable[..., ConfluenceClient]) -> None:
    with respx.mock(base_url=GATEWAY) as gateway:
        second = gateway.get(SPACES, params={"cursor": "n"}).mock(
            return_value=httpx.Response(200, json={"results": [{"id": 2}], "_links": {}})
        )
        gateway.get(SPACES).mock(
            return_value=httpx.Response(
                200, json={"results": [{"id": 1}], "_links": {"next": f"{SPACES}?cursor=n"}}
            )
        )

        assert list(make_client(GATEWAY).paginate(SPACES)) == [{"id": 1}, {"id": 2}]
        assert str(second.calls[0].request.url) == f"{GATEWAY}/wiki/api/v2/spaces?cursor=n"


@pytest.mark.parametrize(
    "next_link",
    ["https://acme.atlassian.net/wiki/api/v2/spaces?cursor=n", "/api/v2/spaces?cursor=n"],
    ids=["absolute URL", "relative to the /wiki base"],
)
def test_v2_next_links_in_other_forms_are_followed(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient], next_link: str
) -> None:
    api.get(SPACES, params={"cursor": "n"}).mock(
        return_value=httpx.Response(200, json={"results": [{"id": 2}]})
    )
    api.get(SPACES).mock(
        return_value=httpx.Response(200, json={"results": [{"id": 1}], "_links": {"next": next_link}})
    )

    assert list(make_client().paginate(SPACES)) == [{"id": 1}, {"id": 2}]


def test_a_next_link_that_repeats_is_an_error_not_a_loop(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    api.get(SPACES).mock(
        return_value=httpx.Response(
            200, json={"results": [{"id": 1}], "_links": {"next": f"{SPACES}?cursor=same"}}
        )
    )

    with pytest.raises(ApiError) as exc:
        list(make_client().paginate(SPACES, space="ENG"))

    assert str(exc.value) == "GET /wiki/api/v2/spaces (space ENG): 200: pagination did not advance"


def test_v1_pages_advance_by_start_and_size_until_there_is_no_next(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["start"])
        names = ["a", "b", "c", "d", "e"][start : start + 2]
        links = {"base": "https://acme.atlassian.net/wiki", "context": "/wiki"}
        if start + 2 < 5:
            links["next"] = f"/rest/api/group?start={start + 2}&limit=2"
        return httpx.Response(
            200,
            json={
                "results": [{"name": n} for n in names],
                "start": start,
                "limit": 2,
                "size": len(names),
                "_links": links,
            },
        )

    route = api.get("/wiki/rest/api/group").mock(side_effect=page)

    items = list(make_client().paginate_v1("/wiki/rest/api/group", {"limit": 2}))

    assert [i["name"] for i in items] == ["a", "b", "c", "d", "e"]
    assert [call.request.url.params["start"] for call in route.calls] == ["0", "2", "4"]


def test_v1_pages_without_links_stop_at_a_short_page(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    route = api.get("/wiki/rest/api/group").mock(
        side_effect=[
            httpx.Response(
                200, json={"results": [{"name": "a"}, {"name": "b"}], "start": 0, "limit": 2, "size": 2}
            ),
            httpx.Response(200, json={"results": [{"name": "c"}], "start": 2, "limit": 2, "size": 1}),
        ]
    )

    assert len(list(make_client().paginate_v1("/wiki/rest/api/group", {"limit": 2}))) == 3
    assert route.call_count == 2


def test_a_list_response_without_results_is_an_error_naming_the_call(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    api.get(SPACES).mock(return_value=httpx.Response(200, json={"oops": []}))

    with pytest.raises(ApiError) as exc:
        list(make_client().paginate(SPACES))

    assert str(exc.value) == "GET /wiki/api/v2/spaces: 200: the response has no 'results' list"
