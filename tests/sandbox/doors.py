"""Both front doors of one sandbox site, as plain httpx clients: the in-process transport and a server."""

from __future__ import annotations

import httpx

from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.site import Site
from reconciler.sandbox.transport import SandboxTransport

ADMIN = (ADMIN_EMAIL, admin_token("demo"))
BOB = ("bob@acme.example", "sandbox-token-bob")  # engineering member, admin nowhere
HEIDI = ("heidi@acme.example", "sandbox-token-heidi")  # Admin of HR only
GINA = ("gina@acme.example", "sandbox-token-gina")  # a guest, Viewer of DOCS


class Door:
    """Opens httpx clients on a site through one front door; ``close()`` stops what it started."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._servers: dict[int, RunningServer] = {}
        self._clients: list[httpx.Client] = []

    def base_url(self, site: Site) -> str:
        if self.kind == "transport":
            return "https://acme.atlassian.net"
        if id(site) not in self._servers:
            self._servers[id(site)] = start_server(site)
        return self._servers[id(site)].url

    def client(
        self,
        site: Site,
        auth: tuple[str, str] | None = ADMIN,
        prefix: str = "",
        headers: dict[str, str] | None = None,
        *,
        xsrf: bool = True,
    ) -> httpx.Client:
        """``xsrf``: send ``X-Atlassian-Token: no-check`` (as the tool does) so v1 writes pass the check."""
        base = self.base_url(site) + prefix
        transport = SandboxTransport(site) if self.kind == "transport" else None
        sent = {**({"X-Atlassian-Token": "no-check"} if xsrf else {}), **(headers or {})}
        client = httpx.Client(base_url=base, auth=auth, headers=sent, transport=transport, timeout=10)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        for server in self._servers.values():
            server.stop()
