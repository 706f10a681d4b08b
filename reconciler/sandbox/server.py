"""The HTTP front door: a threaded HTTP/1.1 server on loopback over :func:`reconciler.sandbox.api.handle`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconciler.errors import UsageError
from reconciler.sandbox.api import handle
from reconciler.sandbox.failures import HttpError
from reconciler.sandbox.faults import wait_until
from reconciler.sandbox.http import Request, Response, v2_error
from reconciler.sandbox.site import Site


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], site: Any, handler: Callable[[Any, Request], Response] | None,
        request_log: RequestLog | None = None,
    ) -> None:
        self.site = site
        self.handle_api = handler
        self.request_log = request_log
        super().__init__(address, _Handler)


class RequestLog:
    """``sandbox serve --request-log FILE``: one line per API request (not ``/_sandbox/``), appended as it
    is answered: ``ARRIVED ANSWERED METHOD PATH STATUS``, the times in ``time.time()`` seconds (comparable
    with another process's clock on the same machine), the path without its query (status 0: the
    connection was dropped). ``benchmarks/process_bench.py`` reads it to show how many of the concurrency
    slots were idle in each phase of a run (docs/performance.md)."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = path.open("a", encoding="utf-8", buffering=1)
        except OSError as err:
            raise UsageError(f"--request-log {path}: cannot open it: {err.strerror or err}") from None
        self._lock = threading.Lock()

    def write(self, arrived: float, answered: float, method: str, path: str, status: int) -> None:
        with self._lock:
            if not self._file.closed:  # a request still answered while the server stops is not logged
                self._file.write(f"{arrived:.6f} {answered:.6f} {method} {path} {status}\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server
    _arrived = 0.0  # time.monotonic() when the request line was read (``parse_request``)

    def parse_request(self) -> bool:
        """The request line was just read (``handle_one_request``): the request arrived. Its headers are
        parsed next, inside the latency, as a real site's parsing is inside the latency its clients see."""
        self._arrived = time.monotonic()
        return super().parse_request()

    def _serve(self) -> None:
        arrived = time.time() - (time.monotonic() - self._arrived)  # the log's clock (across processes)
        status = self._answer()
        log = self.server.request_log
        if log is not None and not self.path.startswith("/_sandbox/"):
            log.write(arrived, time.time(), self.command, self.path.partition("?")[0], status)

    def _answer(self) -> int:
        """Answer the request; its status (0: the connection was dropped)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        request = Request.from_target(
            self.command, self.path, dict(self.headers.items()), body, f"http://{host}",
            arrived=self._arrived,
        )
        try:
            api = self.server.handle_api or handle  # None: the Cloud API, looked up per request
            response = api(self.server.site, request)
        except Exception as err:  # noqa: BLE001 - a sandbox bug must not kill the connection silently
            response = v2_error(HttpError(500, f"sandbox internal error: {type(err).__name__}: {err}"))
        if response.drop:
            wait_until(response.not_before)
            self.close_connection = True  # no status line at all: the client sees a broken connection
            return 0
        self.send_response(response.status)  # the head is formatted into a buffer, before the latency ends
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        wait_until(response.not_before)
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)
        return response.status

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
        if self._server.request_log is not None:
            self._server.request_log.close()

    def wait(self) -> None:
        """Block until the server stops (used by ``reconciler sandbox serve``)."""
        self._thread.join()


def start_server(
    site: Site | Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    handler: Callable[[Any, Request], Response] | None = None,
    request_log: Path | None = None,
) -> RunningServer:
    """Serve ``site`` on ``host:port`` (0 = a free port) from a background thread; ``handler`` is the API
    (``api.handle`` for Cloud sites, ``sandbox.datacenter.handle`` for Data Center sites); ``request_log``:
    a file to append a line to per API request answered (``RequestLog``)."""
    log = RequestLog(request_log) if request_log is not None else None
    try:
        server = _Server((host, port), site, handler, log)
    except OSError as err:  # a busy port is the user's to fix: one line, not a traceback
        if log is not None:
            log.close()
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
