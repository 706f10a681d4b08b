"""fetch_live over real HTTP on loopback: the same live state as in-process, only GETs, clear failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.errors import TransportError
from reconciler.policy.loader import load_policy
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.site import Site
from reconciler.sandbox.transport import SandboxTransport
from tests.kit.sites import fetch_live
from tests.kit.sites import site_client as open_client

pytestmark = pytest.mark.e2e

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CREDENTIALS = {"CONFLUENCE_EMAIL": ADMIN_EMAIL, "CONFLUENCE_API_TOKEN": admin_token("demo")}


@pytest.fixture
def server() -> Iterator[RunningServer]:
    running = start_server(
        Site(
            seed_state("demo"),
            Knobs(fault_rate=0.2, fault_seed=11, retry_after_s=0, fault_kinds=("503",)),
        )
    )
    yield running
    running.stop()


def test_a_plan_read_over_http_sees_what_the_in_process_read_sees_and_sends_only_gets(
    server: RunningServer, tmp_path: Path
) -> None:
    policy = load_policy(POLICIES)
    in_process = SandboxTransport(Site(seed_state("demo")))
    with open_client(
        "sandbox:demo", read_only=True, env={}, transport=in_process, state_dir=tmp_path
    ) as local:
        expected = fetch_live(local, policy)

    env = {**CREDENTIALS, "CONFLUENCE_URL": server.url, "RECONCILER_MAX_RETRIES": "10"}
    with open_client(policy.site.url, read_only=True, env=env) as client:
        live = fetch_live(client, policy)

    assert live == expected
    counters = httpx.get(f"{server.url}/_sandbox/counters").json()["counters"]
    assert counters
    assert all(key.startswith("GET ") for key in counters)


def test_an_unreachable_site_is_one_line_naming_the_host() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**CREDENTIALS, "CONFLUENCE_URL": f"http://127.0.0.1:{port}", "RECONCILER_MAX_RETRIES": "0"}

    with open_client("sandbox:demo", read_only=True, env=env) as client, pytest.raises(TransportError) as exc:
        fetch_live(client, load_policy(POLICIES))

    message = str(exc.value)
    assert message.startswith(
        f"GET /wiki/api/v2/space-role-mode: no response: cannot reach 127.0.0.1:{port}: "
    )
    assert "\n" not in message
    assert admin_token("demo") not in message
