"""A small sandbox site with an org, and an httpx client on it through the in-process transport."""

from __future__ import annotations

import httpx

from reconciler.sandbox.site import Site
from reconciler.sandbox.state import SiteState, Space, User
from reconciler.sandbox.transport import SandboxTransport

ORG = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CLOUD = "11111111-2222-4333-8444-555555555555"
KEY = "test-admin-key-7f3a"
POLICIES = f"/admin/control/v2/orgs/{ORG}/policies"


def make_site(space_count: int = 20) -> Site:
    state = SiteState("apptest", cloud_id=CLOUD, org_id=ORG, admin_api_key=KEY)
    state.users["svc"] = User("svc", "Service", "svc@acme.example", "tok", site_admin=True)
    for number in range(1, space_count + 1):
        state.spaces[1000 + number] = Space(1000 + number, f"S{number:02d}", f"Space {number}")
    return Site(state)


def client(site: Site, key: str | None = KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    transport = SandboxTransport(site)
    return httpx.Client(base_url="https://api.atlassian.com", transport=transport, headers=headers)


def ari(space_id: int) -> str:
    return f"ari:cloud:confluence:{CLOUD}:space/{space_id}"


def body(name: str, space_ids: list[int], *, mode: str = "BLOCK_ALL", apps: list[str] | None = None,
         coverage: str = "CONTAINER") -> dict[str, object]:
    rule: dict[str, object] = {"mode": mode}
    if apps is not None:
        rule["apps"] = apps
    return {"data": {"type": "policy", "attributes": {
        "name": name, "type": "data-security", "status": "enabled", "policyCoverageLevel": coverage,
        "rule": {"appAccess": rule}, "resources": [{"id": ari(i)} for i in space_ids]}}}
