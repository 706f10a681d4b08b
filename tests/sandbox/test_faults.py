"""Knobs: 429 with Retry-After then success, injected faults by seed, dropped connections, read lag."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from reconciler.sandbox import api, faults
from reconciler.sandbox.datacenter import DcKnobs, DcSite
from reconciler.sandbox.datacenter import handle as dc_handle
from reconciler.sandbox.datacenter import seed_state as dc_seed_state
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.http import Request
from reconciler.sandbox.seeds import SVC_ACCOUNT_ID, seed_state
from reconciler.sandbox.site import Site
from tests.sandbox.doors import Door

SPACES = "/wiki/api/v2/spaces"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _site(knobs: Knobs, clock: FakeClock | None = None) -> Site:
    return Site(seed_state("demo"), knobs, clock=clock or FakeClock())


def test_rate_limit_answers_429_then_succeeds_after_retry_after(door: Door) -> None:
    clock = FakeClock()
    site = _site(Knobs(rate_limit=2, burst=2), clock)
    client = door.client(site)
    assert [client.get(SPACES).status_code for _ in range(2)] == [200, 200]
    limited = client.get(SPACES)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", limited.headers["X-RateLimit-Reset"])
    assert limited.json()["errors"][0]["detail"] == "Rate limit exceeded"
    clock.now += 0.1  # retrying before Retry-After has passed fails again
    assert client.get(SPACES).status_code == 429
    clock.now += int(limited.headers["Retry-After"])
    assert client.get(SPACES).status_code == 200
    assert client.get("/_sandbox/counters").json()["throttled"] == 2  # 429s are counted apart


def test_rate_limit_uses_the_v1_envelope_on_v1_paths(door: Door) -> None:
    client = door.client(_site(Knobs(rate_limit=1, burst=1, retry_after_s=0)))
    client.get("/wiki/rest/api/group")
    limited = client.get("/wiki/rest/api/group")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "0")
    assert limited.json()["reason"] == "Too Many Requests"


def _statuses(door: Door, seed: int) -> list[int]:
    client = door.client(_site(Knobs(fault_rate=0.5, fault_seed=seed, fault_kinds=("500", "503"))))
    return [client.get(SPACES).status_code for _ in range(20)]


def test_faults_follow_the_seed(door: Door) -> None:
    first, again, other = _statuses(door, 7), _statuses(door, 7), _statuses(door, 8)
    assert first == again
    assert first != other
    assert {200, 500, 503} == set(first)


def test_injected_503_carries_retry_after(door: Door) -> None:
    client = door.client(_site(Knobs(fault_rate=1.0, fault_kinds=("503",), retry_after_s=0)))
    response = client.get(SPACES)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "0")
    assert response.json()["errors"][0]["detail"] == "Injected fault (sandbox)"


def test_dropped_connection_is_a_protocol_error(door: Door) -> None:
    client = door.client(_site(Knobs(fault_rate=1.0, fault_kinds=("drop",))))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(SPACES)


def test_502_comes_after_the_write_happened(door: Door) -> None:
    site = _site(Knobs(fault_rate=1.0, fault_kinds=("502",)))
    viewer = site.state.role_by_name("Viewer")
    assert viewer is not None
    body = [
        {
            "principal": {"principalType": "USER", "principalId": "5b10ac8d82e05b22cc7d4ef5"},
            "roleId": viewer.id,
        }
    ]
    response = door.client(site).post(f"{SPACES}/1441793/role-assignments", json=body)
    assert response.status_code == 502
    eng = site.state.space_by_key("ENG")
    assert eng is not None
    assert eng.assignments[("USER", "5b10ac8d82e05b22cc7d4ef5")] == viewer.id


def test_slow_fault_still_answers(door: Door) -> None:
    client = door.client(_site(Knobs(fault_rate=1.0, fault_kinds=("slow",), slow_ms=1, latency_ms=1)))
    assert client.get(SPACES).status_code == 200


def test_reads_lag_behind_writes(door: Door) -> None:
    clock = FakeClock()
    site = _site(Knobs(read_lag_ms=500), clock)
    viewer = site.state.role_by_name("Viewer")
    assert viewer is not None
    client = door.client(site)
    url = f"{SPACES}/1441793/role-assignments"
    alice = {"principal-type": "USER", "principal-id": "5b10ac8d82e05b22cc7d4ef5"}
    body = [
        {
            "principal": {"principalType": "USER", "principalId": "5b10ac8d82e05b22cc7d4ef5"},
            "roleId": viewer.id,
        }
    ]
    assert client.post(url, json=body).status_code == 200
    assert client.get(url, params=alice).json()["results"] == []
    clock.now += 0.6
    assert client.get(url, params=alice).json()["results"] == body


def test_knobs_can_be_changed_over_http(door: Door, sandbox_site: Site) -> None:
    client = door.client(sandbox_site)
    response = client.post("/_sandbox/knobs", json={"hidden_spaces": ["ENG"], "latency_ms": 0})
    assert response.json()["hidden_spaces"] == ["ENG"]
    assert client.get(f"{SPACES}/1441793").status_code == 404
    bad = client.post("/_sandbox/knobs", json={"colour": "blue"})
    assert (bad.status_code, bad.json()["errors"][0]["title"]) == (
        400,
        "Bad sandbox control request: unknown knobs: colour",
    )


def test_answers_carry_the_remaining_budget_and_near_limit(door: Door) -> None:
    client = door.client(_site(Knobs(rate_limit=10, burst=10)))
    first = client.get(SPACES)
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("10", "9")
    assert "X-RateLimit-NearLimit" not in first.headers
    for _ in range(8):
        last = client.get(SPACES)
    assert (last.headers["X-RateLimit-Remaining"], last.headers["X-RateLimit-NearLimit"]) == ("1", "true")


def test_latency_is_the_time_to_the_answer_with_the_sandboxs_own_work_inside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``latency_ms`` is how long a request takes to be answered, as a client sees a site's latency: work
    that took 30 ms of a 50 ms latency leaves 20 ms to wait; work that took longer is answered at once."""
    slept: list[float] = []
    now = [100.0]
    monkeypatch.setattr(faults.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(faults.time, "sleep", slept.append)

    now[0] = 100.030
    faults.wait_until(faults.answer_time(100.0, 50.0))
    now[0] = 100.080
    faults.wait_until(faults.answer_time(100.0, 50.0))
    faults.wait_until(faults.answer_time(100.0, 0.0))
    faults.wait_until(None)

    assert slept == [pytest.approx(0.020)]


def test_the_latency_counts_from_when_the_request_arrived_at_the_front_door() -> None:
    """``Request.arrived`` (the HTTP front door: its request line read) is where the latency starts, on
    Cloud and Data Center sites alike: the answer is due that long after it (``Response.not_before``)."""
    cloud = _site(Knobs(latency_ms=50))
    admin = cloud.state.users[SVC_ACCOUNT_ID]
    basic = base64.b64encode(f"{admin.email}:{admin.api_token}".encode()).decode()
    answer = api.handle(cloud, Request("GET", SPACES, headers={"authorization": f"Basic {basic}"},
                                       arrived=123.0))
    assert answer.status == 200
    assert answer.not_before == pytest.approx(123.05)

    dc = DcSite(dc_seed_state("dc-demo"), DcKnobs(latency_ms=80))
    answer = dc_handle(dc, Request("GET", "/confluence/rest/api/space",
                                   headers={"authorization": "Bearer sandbox-dc-pat-demo"}, arrived=7.0))
    assert answer.status == 200
    assert answer.not_before == pytest.approx(7.08)
