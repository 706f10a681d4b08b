"""Shared fixtures.  Sandbox fixtures (owned by the sandbox's tests; others may append fixtures at the end):

- ``sandbox_site``: a fresh in-memory demo site (``reconciler.sandbox.site.Site``), nothing persisted.
- ``sandbox_server``: a demo site served on a free port of 127.0.0.1 (``RunningServer``: ``url``, ``site``).
- ``sandbox_admin``: the demo admin's (email, API token), for Basic auth.
- ``sandbox_state_dir``: an empty directory for persisted sandbox sites (``RECONCILER_SANDBOX_DIR``).

The test kit's root fixtures (``tests/kit``): ``demo_policy`` (a copy of policies/ to edit), ``sandbox_dir``
(an empty directory for persisted sandbox sites) and ``demo_connection`` (a ``Connection`` to the demo
sandbox site kept there, closed after the test).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.flows.connect import Connection
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.site import Site
from tests.kit.sites import OPENED


@pytest.fixture
def sandbox_site() -> Site:
    return Site(seed_state("demo"))


@pytest.fixture
def sandbox_server(sandbox_site: Site) -> Iterator[RunningServer]:
    server = start_server(sandbox_site, "127.0.0.1", 0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_admin() -> tuple[str, str]:
    return (ADMIN_EMAIL, admin_token("demo"))


@pytest.fixture
def sandbox_state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "sandbox-state"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    """Every ``Connection`` a test opened through ``tests.kit.sites.connection`` is closed after it."""
    yield
    while OPENED:
        OPENED.pop().close()


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def demo_policy(tmp_path: Path) -> Path:
    """A copy of the example policies/ (on ``sandbox:demo``) that a test may edit."""
    target = tmp_path / "policies"
    shutil.copytree(REPO / "policies", target)
    return target


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Path:
    """An empty directory for persisted sandbox sites."""
    path = tmp_path / "sandbox"
    path.mkdir()
    return path


@pytest.fixture
def demo_connection(sandbox_dir: Path) -> Iterator[Connection]:
    """A ``Connection`` as a command builds it, on an empty environment and ``sandbox_dir``."""
    with Connection({}, sandbox_dir=sandbox_dir) as opened:
        yield opened
