"""Helpers of the client's two pagination styles and of how paths appear in errors.

Pagination is bounded (docs/configuration.md, "Deadlines"): a list whose pages never end stops with one
``ApiError`` naming the call: a page the list already returned (a site that hands out a new cursor, or
ignores the offset, and sends the same items again), more than ``MAX_EMPTY_PAGES`` empty pages in a row
that still point to a next page, or more than ``MAX_PAGES`` pages in all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.errors import ApiError


def display(path: str) -> str:
    """The path as errors show it: no scheme, host or query string (cursors, filters)."""
    parts = urlsplit(path)
    return parts.path or path


def results_of(page: Any, method: str, path: str, space: str | None) -> list[dict[str, Any]]:
    results = page.get("results") if isinstance(page, dict) else None
    if not isinstance(results, list):
        raise ApiError(method, display(path), 200, "the response has no 'results' list", space=space)
    return results


def next_link(page: Mapping[str, Any], response: httpx.Response) -> str | None:
    links = page.get("_links")
    if isinstance(links, dict):
        nxt = links.get("next")
        if isinstance(nxt, str) and nxt:
            return nxt
    header = response.links.get("next", {}).get("url")
    return header or None


def relative_path(link: str) -> str:
    """A next link as a path from ``/wiki`` on, whatever form the site gave it in."""
    parts = urlsplit(link)
    path = parts.path
    index = path.find("/wiki/")
    if index > 0:
        path = path[index:]
    elif index < 0 and path.startswith(("/api/v2/", "/rest/api/")):
        path = "/wiki" + path
    return f"{path}?{parts.query}" if parts.query else path


MAX_PAGES = 20_000  # 5 million items at 250 a page: far above any real list, far below "forever"
MAX_EMPTY_PAGES = 10  # empty pages in a row that still name a next page


class PageGuard:
    """Stops a list whose pages never end; one per ``paginate`` call."""

    def __init__(self, method: str, path: str, space: str | None) -> None:
        self._call = (method, display(path), space)
        self._seen: set[tuple[int, str, str]] = set()
        self._pages = 0
        self._empty = 0

    def check(self, results: list[dict[str, Any]], status: int) -> None:
        """Call with each page's results, before following its next link."""
        self._pages += 1
        if self._pages > MAX_PAGES:
            self._fail(status, f"pagination did not end after {MAX_PAGES} pages")
        if not results:
            self._empty += 1
            if self._empty > MAX_EMPTY_PAGES:
                self._fail(status, f"pagination did not end: {MAX_EMPTY_PAGES} empty pages in a row each "
                           "named a next page")
            return
        self._empty = 0
        mark = (len(results), repr(results[0]), repr(results[-1]))  # cheap: no copy of the page
        if mark in self._seen:
            self._fail(status, f"pagination did not advance: page {self._pages} repeats an earlier page")
        self._seen.add(mark)

    def _fail(self, status: int, detail: str) -> None:
        method, path, space = self._call
        raise ApiError(method, path, status, detail, space=space)


def count_field(page: dict[str, Any], key: str, default: int, path: str, space: str | None) -> int:
    """A whole, non-negative number of a v1 page (``size``, ``start``); anything else is an ``ApiError``
    naming the call (never a ``ValueError`` from ``int()``)."""
    value = page.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError("GET", display(path), 200, f"the response's '{key}' is not a whole number: "
                       f"{str(value)[:40]!r}", space=space)
    return value


def offset_pages(get_json: Callable[..., Any], path: str, params: Mapping[str, Any] | None,
                 space: str | None) -> Iterator[dict[str, Any]]:
    """Every item of a v1 list, by offset (``start``/``limit``/``size``/``_links.next``), each page read
    with ``get_json(path, params, space=...)`` (the client's)."""
    query = dict(params or {})
    start = int(query.pop("start", 0))
    limit = query.get("limit")
    guard = PageGuard("GET", path, space)
    while True:
        page = get_json(path, {**query, "start": start}, space=space)
        results = results_of(page, "GET", path, space)
        guard.check(results, 200)
        yield from results
        size = count_field(page, "size", len(results), path, space)
        links = page.get("_links")
        if size == 0 or not results:
            return
        if isinstance(links, dict) and not links.get("next"):
            return
        if links is None and limit is not None and size < int(limit):
            return
        following = count_field(page, "start", start, path, space) + size
        if following <= start:  # the site's own offset went back: the same pages again
            raise ApiError("GET", display(path), 200, f"pagination did not advance: offset {following} "
                           f"after {start}", space=space)
        start = following
