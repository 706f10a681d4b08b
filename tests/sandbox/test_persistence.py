"""The in-process transport persists to <state_dir>/<name>.json; separate transports see one site."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reconciler.errors import UsageError
from reconciler.sandbox import default_admin_api_key, default_credentials
from reconciler.sandbox.transport import open_sandbox_transport

ROLE_BODY = {"name": "Release Manager", "description": "Ships", "spacePermissions": ["read/space"]}


def _client(state_dir: Path, name: str = "demo") -> httpx.Client:
    return httpx.Client(
        transport=open_sandbox_transport(name, state_dir),
        base_url="https://sandbox.invalid",
        auth=default_credentials(name, state_dir),
    )


def test_first_use_creates_the_site_from_its_seed(sandbox_state_dir: Path) -> None:
    client = _client(sandbox_state_dir)
    assert client.get("/wiki/api/v2/space-role-mode").json() == {"mode": "ROLES_TRANSITION"}
    saved = json.loads((sandbox_state_dir / "demo.json").read_text())
    assert (saved["format"], saved["name"], len(saved["spaces"])) == (1, "demo", 12)


def test_writes_are_persisted_and_seen_by_a_later_transport(sandbox_state_dir: Path) -> None:
    assert _client(sandbox_state_dir).post("/wiki/api/v2/space-roles", json=ROLE_BODY).status_code == 201
    names = [r["name"] for r in _client(sandbox_state_dir).get("/wiki/api/v2/space-roles").json()["results"]]
    assert "Release Manager" in names


def test_a_live_transport_reloads_after_another_one_wrote(sandbox_state_dir: Path) -> None:
    first, second = _client(sandbox_state_dir), _client(sandbox_state_dir)
    assert first.get("/wiki/api/v2/space-roles").status_code == 200
    assert second.post("/wiki/api/v2/space-roles", json=ROLE_BODY).status_code == 201
    names = [r["name"] for r in first.get("/wiki/api/v2/space-roles").json()["results"]]
    assert "Release Manager" in names


def test_failed_writes_are_not_persisted(sandbox_state_dir: Path) -> None:
    client = _client(sandbox_state_dir)
    before = (sandbox_state_dir / "demo.json").read_text()
    assert client.post("/wiki/api/v2/space-roles", json={"name": "x"}).status_code == 400
    assert (sandbox_state_dir / "demo.json").read_text() == before


def test_default_credentials_are_the_policy_actor(sandbox_state_dir: Path) -> None:
    assert default_credentials("demo", sandbox_state_dir) == (
        "svc-reconciler@acme.example",
        "sandbox-admin-token-demo",
    )
    assert default_admin_api_key("demo", sandbox_state_dir) == "sandbox-admin-api-key-demo"
    name = "synthetic:spaces=3,per_space=2,seed=1"
    assert default_credentials(name, sandbox_state_dir) == (
        "svc-reconciler@acme.example",
        "sandbox-admin-token",
    )


def test_synthetic_site_by_name(sandbox_state_dir: Path) -> None:
    client = _client(sandbox_state_dir, "synthetic:spaces=3,per_space=2,seed=1")
    keys = [s["key"] for s in client.get("/wiki/api/v2/spaces").json()["results"]]
    assert keys == ["S00001", "S00002", "S00003"]
    assert client.get("/wiki/api/v2/space-role-mode").json() == {"mode": "ROLES"}


def test_unknown_seed_name_is_a_usage_error(sandbox_state_dir: Path) -> None:
    with pytest.raises(UsageError) as caught:
        open_sandbox_transport("prod", sandbox_state_dir)
    assert str(caught.value) == (
        "unknown sandbox seed 'prod': expected 'demo' or 'synthetic:spaces=N,per_space=M,seed=S' "
        "(optionally followed by +live or +plain)"
    )


@pytest.mark.e2e
def test_a_server_on_a_persisted_site_and_a_transport_share_one_site(sandbox_state_dir: Path) -> None:
    from reconciler.sandbox.server import start_server
    from reconciler.sandbox.store import open_site

    server = start_server(open_site("demo", sandbox_state_dir))
    auth = default_credentials("demo", sandbox_state_dir)
    try:
        with httpx.Client(base_url=server.url, auth=auth) as over_http:
            assert (
                _client(sandbox_state_dir).post("/wiki/api/v2/space-roles", json=ROLE_BODY).status_code == 201
            )
            names = [r["name"] for r in over_http.get("/wiki/api/v2/space-roles").json()["results"]]
            assert "Release Manager" in names
            body = {**ROLE_BODY, "name": "Second"}
            assert over_http.post("/wiki/api/v2/space-roles", json=body).status_code == 201
        roles = _client(sandbox_state_dir).get("/wiki/api/v2/space-roles").json()["results"]
        assert {"Release Manager", "Second"} <= {r["name"] for r in roles}
    finally:
        server.stop()
