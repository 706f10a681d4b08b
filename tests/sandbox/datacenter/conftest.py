"""DC sandbox fixtures: a fresh dc-demo site and a client factory through both front doors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from reconciler.sandbox.datacenter import DcSite, handle, seed_state
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.transport import SandboxTransport

PAT = "sandbox-dc-pat-demo"
BOB_PAT = "sandbox-dc-pat-bob"  # engineering member, admin of no space
RPC = "/confluence/rpc/json-rpc/confluenceservice-v2"
Client = Callable[..., httpx.Client]


@pytest.fixture
def site() -> DcSite:
    return DcSite(seed_state("dc-demo"))


@pytest.fixture(params=["transport", pytest.param("server", marks=pytest.mark.e2e)])
def client(request: pytest.FixtureRequest, site: DcSite) -> Iterator[Client]:
    servers: list[RunningServer] = []
    clients: list[httpx.Client] = []

    def make(token: str | None = PAT, basic: tuple[str, str] | None = None) -> httpx.Client:
        if request.param == "transport":
            base, transport = "http://dc.sandbox", SandboxTransport(site, handler=handle)
        else:
            if not servers:
                servers.append(start_server(site, handler=handle))
            base, transport = servers[0].url, None
        headers = {"Authorization": f"Bearer {token}"} if token and basic is None else {}
        made = httpx.Client(base_url=base, transport=transport, headers=headers, auth=basic, timeout=10)
        clients.append(made)
        return made

    yield make
    for made in clients:
        made.close()
    for server in servers:
        server.stop()


def op(pair: str) -> dict[str, str]:
    key, _, target = pair.partition("/")
    return {"operationKey": key, "targetType": target}


def rpc(method: str, *params: object) -> dict[str, object]:
    return {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 7}
