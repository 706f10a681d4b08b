"""The in-process front door: an httpx transport over :func:`reconciler.sandbox.api.handle`.

``site.url: sandbox:<name>`` uses it; the site is persisted to ``<state_dir>/<name>.json`` after each write,
and reloaded when another process (or another transport) changed that file, so separate runs see one site.
A dropped connection (fault injection) surfaces as ``httpx.RemoteProtocolError``, as over real HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx

from reconciler.sandbox.api import handle
from reconciler.sandbox.faults import Knobs, wait_until
from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.store import DEFAULT_STATE_DIR, FileSync, open_site


class SandboxTransport(httpx.BaseTransport):
    """Serves httpx requests from a :class:`Site` (a persisted one keeps itself in step with its file)."""

    def __init__(
        self,
        site: Any,
        path: Path | None = None,
        *,
        handler: Callable[[Any, Request], Response] | None = None,
    ) -> None:
        self.site = site
        self._handle = handler or handle  # api.handle (Cloud) or sandbox.datacenter.handle (Data Center)
        if path is not None:
            FileSync(site, path)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        sandbox_request = Request(
            request.method.upper(),
            unquote(url.path),
            parse_qs(url.query.decode(), keep_blank_values=True),
            {k.lower(): v for k, v in request.headers.items()},
            request.read(),
            f"{url.scheme}://{url.netloc.decode('ascii')}",
        )
        response = self._handle(self.site, sandbox_request)
        wait_until(response.not_before)
        if response.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )


def open_sandbox_transport(
    name: str,
    state_dir: Path = DEFAULT_STATE_DIR,
    knobs: Knobs | None = None,
) -> SandboxTransport:
    """A transport over the persisted sandbox site ``name`` ("demo" or "synthetic:spaces=N,...")."""
    return SandboxTransport(open_site(name, state_dir, knobs))
