"""The route table: ``@route("GET", "/wiki/api/v2/spaces/{id}")`` registers a ``(ctx) -> Response``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.sandbox.failures import HttpError, not_found
from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.site import Site
from reconciler.sandbox.state import SiteState, Space, User


@dataclass(frozen=True)
class Ctx:
    """What a handler gets: the site, the request, the authenticated caller, path parameters."""

    site: Site
    request: Request
    user: User
    params: dict[str, str]
    base: str  # absolute base of the site's API, ending in /wiki (the gateway prefix kept)
    api_path: str  # the request path without the gateway prefix

    def hidden(self) -> frozenset[str]:
        return self.site.knobs.hidden_spaces


Handler = Callable[[Ctx], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found is not None else None


ROUTES: list[Route] = []


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    regex = re.sub(
        r"\{(\w+)\}",
        lambda m: f"(?P<{m.group(1)}>[^/]+)",
        re.escape(template).replace(r"\{", "{").replace(r"\}", "}"),
    )
    pattern = re.compile(f"^{regex}/?$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, pattern, handler))
        return handler

    return register


def space_by_id(state: SiteState, raw: str) -> Space:
    try:
        space_id = int(raw)
    except ValueError:
        raise HttpError(400, f"Space id must be an integer, got '{raw}'") from None
    space = state.spaces.get(space_id)
    if space is None:
        raise not_found(f"No space with id {space_id}")
    return space
