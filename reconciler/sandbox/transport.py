"""The in-process front door: an httpx transport over :func:`reconciler.sandbox.api.handle`.

``site.url: sandbox:<name>`` uses it; the site is persisted to ``<state_dir>/<name>.json`` after each write,
and reloaded when another process (or another transport) changed that file, so separate runs see one site.
A dropped connection (fault injection) surfaces as ``httpx.RemoteProtocolError``, as over real HTTP.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import parse_qs, unquote

import httpx

from reconciler.sandbox.api import handle
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.http import Request
from reconciler.sandbox.site import Site, load_state
from reconciler.sandbox.store import DEFAULT_STATE_DIR, open_site, state_path


class SandboxTransport(httpx.BaseTransport):
    """Serves httpx requests from a :class:`Site`; with ``path``, keeps the site and the file in step."""

    def __init__(self, site: Site, path: Path | None = None) -> None:
        self.site = site
        self.path = path
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        if path is not None:
            site.on_write = self._save

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._reload_if_changed()
        url = request.url
        sandbox_request = Request(
            request.method.upper(),
            unquote(url.path),
            parse_qs(url.query.decode(), keep_blank_values=True),
            {k.lower(): v for k, v in request.headers.items()},
            request.read(),
            f"{url.scheme}://{url.netloc.decode('ascii')}",
        )
        response = handle(self.site, sandbox_request)
        if response.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )

    def _file_stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def _save(self, site: Site) -> None:
        assert self.path is not None
        with self._lock:
            site.save(self.path)
            self._stamp = self._file_stamp()

    def _reload_if_changed(self) -> None:
        if self.path is None:
            return
        with self.site.lock, self._lock:
            stamp = self._file_stamp()
            if stamp is not None and stamp != self._stamp:
                self.site.replace_state(load_state(self.path))
                self._stamp = stamp


def open_sandbox_transport(
    name: str,
    state_dir: Path = DEFAULT_STATE_DIR,
    knobs: Knobs | None = None,
) -> SandboxTransport:
    """A transport over the persisted sandbox site ``name`` ("demo" or "synthetic:spaces=N,...")."""
    site = open_site(name, state_dir, knobs)
    return SandboxTransport(site, state_path(name, state_dir))
