"""What the client puts on the wire per call, built with less work than httpx's defaults but the same:
each URL parsed once (``ConfluenceClient.url_of``), the cookie jar looked at only when an answer sets a
cookie. The URLs are compared with httpx's own ``build_request`` for open-ended paths and parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.confluence.client import ConfluenceClient

BASES = ("https://acme.atlassian.net", "https://api.atlassian.com/ex/confluence/0a1b-2c3d/",
         "http://127.0.0.1:8089", "https://dc.example.com/confluence")
SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=12)
VALUE = st.one_of(st.text(max_size=12), st.integers(-5, 10**6), st.booleans(),
                  st.lists(st.text(max_size=6), max_size=3))
PARAMS = st.one_of(st.none(), st.dictionaries(st.text(min_size=1, max_size=8), VALUE, max_size=4))


def _client(base: str) -> ConfluenceClient:
    return ConfluenceClient(base, transport=httpx.MockTransport(lambda r: httpx.Response(200)))


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(BASES), segments=st.lists(SEGMENT, min_size=1, max_size=5),
       query=st.one_of(st.none(), st.text(max_size=10)), params=PARAMS)
def test_a_url_is_the_one_httpx_would_build(base: str, segments: list[str], query: str | None,
                                            params: dict[str, Any] | None) -> None:
    path = "/wiki/" + "/".join(segments) + (f"?{query}" if query is not None else "")
    client = _client(base)
    try:
        built = client._http.build_request("GET", path, params=params).url  # httpx's three parses
    except httpx.InvalidURL:  # a character no URL may hold: refused the same way
        with pytest.raises(httpx.InvalidURL):
            client.url_of(path, params)
        return
    assert client.url_of(path, params) == built
    assert str(client.url_of(path, params)) == str(built)


def test_a_plain_path_with_parameters_is_parsed_once_into_the_same_url() -> None:
    client = _client("https://api.atlassian.com/ex/confluence/abc")
    url = client.url_of("/wiki/api/v2/spaces", {"keys": "OPS,HR", "limit": 250, "cursor": "a b+c=="})
    assert str(url) == ("https://api.atlassian.com/ex/confluence/abc/wiki/api/v2/spaces"
                        "?keys=OPS%2CHR&limit=250&cursor=a+b%2Bc%3D%3D")


def test_a_cookie_the_site_sets_is_sent_back_and_kept_across_answers_without_one(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    api.get("/wiki/api/v2/spaces").mock(side_effect=[
        httpx.Response(200, json={"results": []}, headers={"Set-Cookie": "atlassian.xsrf.token=t1; Path=/"}),
        httpx.Response(200, json={"results": []}),
        httpx.Response(200, json={"results": []}),
    ])
    client = make_client()
    for _ in range(3):
        client.get_json("/wiki/api/v2/spaces")
    sent = [call.request.headers.get("Cookie") for call in api.calls]
    assert sent == [None, "atlassian.xsrf.token=t1", "atlassian.xsrf.token=t1"]


def test_a_cookie_the_site_replaces_is_replaced(
    api: respx.MockRouter, make_client: Callable[..., ConfluenceClient]
) -> None:
    api.get("/wiki/api/v2/spaces").mock(side_effect=[
        httpx.Response(200, json={}, headers={"set-cookie": "JSESSIONID=a; Path=/"}),
        httpx.Response(200, json={}, headers={"SET-COOKIE": "JSESSIONID=b; Path=/"}),
        httpx.Response(200, json={}),
    ])
    client = make_client()
    for _ in range(3):
        client.get_json("/wiki/api/v2/spaces")
    sent = [call.request.headers.get("Cookie") for call in api.calls]
    assert sent == [None, "JSESSIONID=a", "JSESSIONID=b"]
