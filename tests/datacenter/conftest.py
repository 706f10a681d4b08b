"""A DC client on a fresh dc-demo sandbox site, through the in-process transport (real httpx)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from reconciler.confluence.client import ConfluenceClient
from reconciler.datacenter.connect import open_dc_client
from reconciler.datacenter.read import DcReader
from reconciler.sandbox.datacenter import DcSite, handle, seed_state
from reconciler.sandbox.transport import SandboxTransport

PAT = "sandbox-dc-pat-demo"
BASE = "http://dc.sandbox/confluence"
MakeReader = Callable[..., DcReader]


@pytest.fixture
def site() -> DcSite:
    return DcSite(seed_state("dc-demo"))


@pytest.fixture
def make_reader(site: DcSite) -> Iterator[MakeReader]:
    clients: list[ConfluenceClient] = []

    def make(env: dict[str, str] | None = None, *, read_only: bool = False, **options: object) -> DcReader:
        client = open_dc_client(BASE, read_only=read_only, env=env or {"CONFLUENCE_PAT": PAT},
                                transport=SandboxTransport(site, handler=handle))
        clients.append(client)
        return DcReader(client, **options)  # type: ignore[arg-type]

    yield make
    for client in clients:
        client.close()
