"""Helpers of the client's two pagination styles and of how paths appear in errors."""

from __future__ import annotations

from collections.abc import Mapping
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
