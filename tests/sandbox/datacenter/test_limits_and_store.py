"""The DC rate limiter's headers, blocked users, persistence and the serve command."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.datacenter import DcKnobs, DcSite, is_datacenter, open_dc_transport, seed_state
from reconciler.sandbox.spawn import spawned_server
from tests.sandbox.datacenter.conftest import PAT, Client


def test_every_answer_carries_the_rate_limit_headers(client: Client, site: DcSite) -> None:
    site.configure(DcKnobs(rate_limit=100, burst=2))
    http = client()
    first = http.get("/confluence/rest/api/user/current")
    assert {k: first.headers[k] for k in ("x-ratelimit-limit", "x-ratelimit-fillrate",
                                          "x-ratelimit-interval-seconds", "retry-after")} == {
        "x-ratelimit-limit": "2", "x-ratelimit-fillrate": "100", "x-ratelimit-interval-seconds": "1",
        "retry-after": "0"}


def test_an_empty_bucket_is_429_with_retry_after(client: Client, site: DcSite) -> None:
    site.configure(DcKnobs(rate_limit=0.01, burst=1))
    http = client()
    assert http.get("/confluence/rest/api/user/current").status_code == 200
    refused = http.get("/confluence/rest/api/user/current")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_a_blocked_user_gets_retry_after_long_max(client: Client, site: DcSite) -> None:
    site.configure(DcKnobs(rate_limit=10, blocked_users=frozenset({"svc-reconciler"})))
    refused = client().get("/confluence/rest/api/space")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "9223372036854775807"
    assert refused.headers["x-ratelimit-limit"] == "0"
    assert refused.headers["x-ratelimit-fillrate"] == "0"


def test_a_persisted_dc_site_survives_a_new_transport(tmp_path: Path) -> None:
    assert is_datacenter("dc-demo", tmp_path)
    assert not is_datacenter("demo", tmp_path)
    headers = {"Authorization": f"Bearer {PAT}"}
    body = [{"groupName": "hr", "operations": [{"operationKey": "read", "targetType": "space"}]}]
    with httpx.Client(transport=open_dc_transport("dc-demo", tmp_path), base_url="http://x",
                      headers=headers) as http:
        assert http.post("/confluence/rest/api/space/FIN/permissions", json=body).status_code == 200
    with httpx.Client(transport=open_dc_transport("dc-demo", tmp_path), base_url="http://x",
                      headers=headers) as http:
        rows = http.get("/confluence/rest/api/space/FIN/permissions").json()
    assert {"type": "group", "name": "hr"} in [r["subject"] for r in rows]
    assert '"platform":"datacenter"' in (tmp_path / "dc-demo.json").read_text()


def test_the_synthetic_seed_is_deterministic() -> None:
    one, two = seed_state("dc-synthetic:spaces=20,per_space=5,seed=3"), seed_state(
        "dc-synthetic:spaces=20,per_space=5,seed=3")
    assert one.to_json() == two.to_json()
    assert len(one.spaces) == 20


@pytest.mark.e2e
def test_serve_dc_demo_prints_the_credentials_to_use(tmp_path: Path) -> None:
    with spawned_server("--seed", "dc-demo", cwd=tmp_path) as printed:
        assert printed["CONFLUENCE_URL"].endswith("/confluence")
        assert printed["CONFLUENCE_PAT"] == PAT
        me = httpx.get(f"{printed['CONFLUENCE_URL']}/rest/api/user/current",
                       headers={"Authorization": f"Bearer {printed['CONFLUENCE_PAT']}"}).json()
        assert me["username"] == "svc-reconciler"
