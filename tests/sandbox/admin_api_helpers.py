"""A small sandbox site with an org, and an httpx client on its Admin API through the in-process transport."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.sandbox.site import Site
from reconciler.sandbox.state import SiteState, Space, User
from reconciler.sandbox.transport import SandboxTransport

ORG = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CLOUD = "11111111-2222-4333-8444-555555555555"
KEY = "test-admin-key-7f3a"
V2 = f"/admin/control/v2/orgs/{ORG}/policies"
V1 = f"/admin/control/v1/orgs/{ORG}/policies"


def make_site(space_count: int = 5) -> Site:
    state = SiteState("dstest", cloud_id=CLOUD, org_id=ORG, admin_api_key=KEY)
    state.users["svc"] = User("svc", "Service", "svc@acme.example", "tok", site_admin=True)
    for number in range(1, space_count + 1):
        state.spaces[1000 + number] = Space(1000 + number, f"S{number:02d}", f"Space {number}")
    return Site(state)


def client(site: Site, key: str | None = KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(
        base_url="https://api.atlassian.com", transport=SandboxTransport(site), headers=headers
    )


def ari(space_id: int) -> str:
    return f"ari:cloud:confluence:{CLOUD}:space/{space_id}"


def body(
    rule: str = "export",
    effect: str = "block",
    level: str = "ORG",
    *,
    subject: str | None = None,
    name: str = "P",
) -> dict[str, Any]:
    """A policy body in the cookbook's shape (2026-02-26)."""
    inner: dict[str, Any] = {"effect": effect}
    if subject is not None:
        inner["subjectId"] = subject
    return {
        "data": {
            "type": "policy",
            "attributes": {
                "type": "data-security",
                "name": name,
                "status": "draft",
                "metadata": {"policyCoverageLevel": level},
                "rule": {rule: inner},
            },
        }
    }
