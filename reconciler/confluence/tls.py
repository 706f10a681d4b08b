"""The TLS settings of a run's HTTP clients, made once and ahead of need.

httpx makes an ``ssl.SSLContext`` for every client it opens (``httpx.create_ssl_context``: the certifi
bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), 30-60 ms, mostly OpenSSL parsing the bundle's
certificates. ``reconciler plan`` starts making it on a thread as the command begins (``prepare``), beside
the imports of the modules it needs (OpenSSL lets the GIL go while it reads the bundle), so the site is
opened, and its first request sent, that much sooner (docs/performance.md, "Latest"). ``context`` is what
a client passes as httpx's ``verify``: the very context httpx would have made, or None when it was not
prepared or could not be made (the client then makes its own, as httpx always did, and reports whatever
is wrong with the settings itself).
"""

from __future__ import annotations

import ssl
import threading

_made: list[ssl.SSLContext | None] = []
_ready = threading.Event()
_started = threading.Lock()


def prepare() -> None:
    """Start making the context on a thread (once per process; later calls do nothing)."""
    if not _started.acquire(blocking=False):
        return
    threading.Thread(target=_make, name="reconciler-tls", daemon=True).start()


def context() -> ssl.SSLContext | None:
    """The context ``prepare`` made (waiting for it if need be), or None when ``prepare`` was not called
    or the context could not be made."""
    if not _started.locked():
        return None
    _ready.wait()
    return _made[0] if _made else None


def _make() -> None:
    try:
        import httpx  # noqa: PLC0415 - on this thread, beside the command's own imports

        _made.append(httpx.create_ssl_context())
    except Exception:  # noqa: BLE001 - the client makes its own, and reports the problem with it
        _made.append(None)
    finally:
        _ready.set()
