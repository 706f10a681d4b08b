"""The HTTP front door: a threaded HTTP/1.1 server on loopback over :func:`reconciler.sandbox.api.handle`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reconciler.errors import UsageError
from reconciler.sandbox.api import handle
from reconciler.sandbox.failures import HttpError
from reconciler.sandbox.http import Request, Response, v2_error
from reconciler.sandbox.site import Site


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], site: Any, handler: Callable[[Any, Request], Response] | None
    ) -> None:
        self.site = site
        self.handle_api = handler
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        request = Request.from_target(
            self.command, self.path, dict(self.headers.items()), body, f"http://{host}"
        )
        try:
            api = self.server.handle_api or handle  # None: the Cloud API, looked up per request
            response = api(self.server.site, request)
        except Exception as err:  # noqa: BLE001 - a sandbox bug must not kill the connection silently
            response = v2_error(HttpError(500, f"sandbox internal error: {type(err).__name__}: {err}"))
        if response.drop:
            self.close_connection = True  # no status line at all: the client sees a broken connection
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Quiet: library code does not print."""


@dataclass
class RunningServer:
    """A started sandbox server: ``url`` (``http://127.0.0.1:<port>``), its ``site``, and ``stop()``."""

    url: str
    site: Any  # Site (Cloud) or DcSite (Data Center)
    _server: _Server
    _thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def wait(self) -> None:
        """Block until the server stops (used by ``reconciler sandbox serve``)."""
        self._thread.join()


def start_server(
    site: Site | Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    handler: Callable[[Any, Request], Response] | None = None,
) -> RunningServer:
    """Serve ``site`` on ``host:port`` (0 = a free port) from a background thread; ``handler`` is the API
    (``api.handle`` for Cloud sites, ``sandbox.datacenter.handle`` for Data Center sites)."""
    try:
        server = _Server((host, port), site, handler)
    except OSError as err:  # a busy port is the user's to fix: one line, not a traceback
        raise UsageError(f"cannot serve on {host}:{port}: {err.strerror or err}; choose another --port "
                         "(--port 0 picks a free one)") from None
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"sandbox-server-{site.name}",
        daemon=True,
    )
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    host_text = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
    return RunningServer(f"http://{host_text}:{bound_port}", site, server, thread)
