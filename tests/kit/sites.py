"""Test access to a site through the composition root: a ``Connection`` built the way a test needs it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from reconciler.backend import Progress
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.endpoint import open_client
from reconciler.confluence.read import read_live
from reconciler.confluence.read_protocol import Reader
from reconciler.flows.connect import Connection, parse_site
from reconciler.flows.live import request_for
from reconciler.live_state import LiveState
from reconciler.model import DesiredState


def site_client(
    url: str,
    *,
    read_only: bool,
    env: Mapping[str, str],
    admin: bool = False,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> ConfluenceClient:
    """The client a command would use for ``url`` (``admin``: the org Admin API client of a Cloud site,
    opened on its own)."""
    if admin:
        return open_client(parse_site(url), read_only=read_only, env=env, admin=True, transport=transport)
    backend = connection(env, transport=transport, sandbox_dir=state_dir).open(url, read_only=read_only)
    return backend.client


def fetch_live(
    client: Reader,
    desired: DesiredState,
    *,
    spaces: Sequence[str] = (),
    progress: Progress | None = None,
    allow_missing: bool = False,
    list_all: bool = False,
) -> LiveState:
    """The Cloud read of ``desired``'s spaces, as the flows request it (``spaces``: only these)."""
    request = request_for(desired, only=tuple(spaces), missing_ok=allow_missing, unmanaged=list_all)
    return read_live(client, request, progress)


OPENED: list[Connection] = []  # closed after each test by tests/conftest.py


def connection(
    env: Mapping[str, str] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    admin_transport: httpx.BaseTransport | None = None,
    sandbox_dir: Path | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Connection:
    """A ``Connection`` for a test (``env`` default: empty), closed after the test."""
    opened = Connection({} if env is None else env, transport=transport, admin_transport=admin_transport,
                        sandbox_dir=sandbox_dir, **({"sleep": sleep} if sleep else {}))
    OPENED.append(opened)
    return opened
