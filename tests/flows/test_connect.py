"""The composition root opens each client once per run: one per system a command talks to."""

from __future__ import annotations

from pathlib import Path

import httpx

from reconciler.flows.apply import Approval, run_apply
from reconciler.flows.connect import Connection
from reconciler.flows.drift import run_drift
from reconciler.flows.plan import run_plan
from reconciler.sandbox.transport import SandboxTransport, open_sandbox_transport
from tests.kit.sites import connection

POLICIES = Path(__file__).resolve().parents[2] / "policies"  # the demo policy, with data security


class CountingTransport(httpx.BaseTransport):
    """The sandbox behind a transport that counts the clients it serves (one httpx.Client each)."""

    def __init__(self, inner: SandboxTransport) -> None:
        self.inner = inner
        self.clients: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.clients.add(request.headers.get("authorization", "")[:12])  # Basic (site) or Bearer (org)
        return self.inner.handle_request(request)


def test_a_plan_of_a_site_and_its_org_opens_one_client_for_each(tmp_path: Path) -> None:
    transport = CountingTransport(open_sandbox_transport("demo", tmp_path))
    site = connection({}, transport=transport, sandbox_dir=tmp_path)
    _desired, live, _plan = run_plan(POLICIES, site)
    assert live.data_security is not None  # the org was read too
    assert site.clients_opened == ["site", "admin"]
    assert {header.split()[0] for header in transport.clients} == {"Basic", "Bearer"}


def test_a_scoped_plan_talks_to_the_site_alone(demo_connection: Connection) -> None:
    run_plan(POLICIES, demo_connection, spaces=["ENG"])
    assert demo_connection.clients_opened == ["site"]


def test_apply_of_a_policy_directory_plans_and_writes_through_one_client_per_system(
    demo_policy: Path, sandbox_dir: Path
) -> None:
    site = connection({}, sandbox_dir=sandbox_dir, sleep=lambda _s: None)
    shown: list[int] = []
    result = run_apply(demo_policy, site, show=lambda plan: shown.append(len(plan.changes)),
                       approve=lambda _plan: Approval.GIVEN)
    assert result is not None
    assert result.ok
    assert shown[0] > 0
    assert any(r.change.kind.name.endswith("APP_POLICY") for r in result.results)  # the org was written
    assert site.clients_opened == ["site", "admin"]


def test_drift_opens_one_client_per_system(tmp_path: Path) -> None:
    site = connection({}, sandbox_dir=tmp_path)
    run_drift(POLICIES, site)
    assert site.clients_opened == ["site", "admin"]


def test_the_connection_opens_a_site_once_per_run(tmp_path: Path) -> None:
    site = connection({}, sandbox_dir=tmp_path)
    first = site.open("sandbox:demo", read_only=True)
    assert site.open("sandbox:demo", read_only=True) is first
    assert site.clients_opened == ["site"]
