"""Record every request the tool makes to an in-process sandbox and the answer it got."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.sandbox import transport
from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.site import Site


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    request_body: Any  # parsed JSON, or None
    status: int
    content_type: str
    response_body: Any  # parsed JSON, else the text

    @property
    def call(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


@contextmanager
def recording() -> Iterator[list[Exchange]]:
    """Every exchange through the in-process front door (``sandbox:<name>`` site URLs) while open."""
    seen: list[Exchange] = []
    real = transport.handle

    def handle(site: Site, request: Request) -> Response:
        response = real(site, request)
        seen.append(
            Exchange(
                request.method,
                request.path,
                dict(request.headers),
                _parse(request.body),
                response.status,
                response.headers.get("Content-Type", ""),
                _parse(response.body),
            )
        )
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transport, "handle", handle)
        yield seen
