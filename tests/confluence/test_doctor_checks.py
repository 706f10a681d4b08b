"""``reconciler doctor``'s checks against the sandbox: all ok on the demo site (in process and over real
HTTP), and each deliberately changed answer shape, a role-mode 404 and refused credentials flagged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.doctor import FAIL, OK, ROLE_MODE_404, SKIP, Doctor, Finding, render_text, report
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.reshape import RESHAPES
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.server import start_server
from reconciler.sandbox.site import Site
from reconciler.sandbox.transport import SandboxTransport

CHECKS = ["credentials", "role mode", "catalogue", "shape: spaces", "shape: roles", "shape: role assignments",
          "shape: permissions", "shape: groups", "shape: users", "live vocabulary", "rate limits"]
RESHAPED_CHECK = {"spaces": "shape: spaces", "roles": "shape: roles",
                  "role-assignments": "shape: role assignments", "permissions": "shape: permissions",
                  "groups": "shape: groups", "users": "shape: users"}
ADMIN = (ADMIN_EMAIL, admin_token("demo"))


@contextmanager
def _client(site: Site, auth: tuple[str, str] = ADMIN) -> Iterator[ConfluenceClient]:
    client = ConfluenceClient("https://acme.atlassian.net", auth=httpx.BasicAuth(*auth),
                              transport=SandboxTransport(site), read_only=True)
    with client:
        yield client


def _statuses(findings: list[Finding]) -> dict[str, str]:
    return {f.check: f.status for f in findings}


def test_every_check_is_ok_on_the_demo_site() -> None:
    with _client(Site(seed_state("demo"))) as client:
        findings = Doctor(client).run()
    assert _statuses(findings) == dict.fromkeys(CHECKS, OK)
    assert render_text("sandbox:demo", findings).endswith("doctor: all ok (11 ok)\n")


@pytest.mark.e2e
def test_every_check_is_ok_against_a_served_sandbox_over_http() -> None:
    server = start_server(Site(seed_state("demo+live")))
    try:
        with ConfluenceClient(server.url, auth=httpx.BasicAuth(ADMIN_EMAIL, admin_token("demo")),
                              read_only=True) as client:
            findings = Doctor(client).run()
    finally:
        server.stop()
    assert _statuses(findings) == dict.fromkeys(CHECKS, OK)
    vocabulary = next(f for f in findings if f.check == "live vocabulary")
    assert {k: vocabulary.facts[k] for k in ("app_accounts", "companion_rows", "duplicate_rows")} == {
        "app_accounts": 3, "companion_rows": 1, "duplicate_rows": 1}


@pytest.mark.parametrize("kind", sorted(RESHAPES))
def test_a_changed_answer_shape_is_flagged_and_only_there(kind: str) -> None:
    with _client(Site(seed_state("demo"), Knobs(reshape=frozenset({kind})))) as client:
        findings = Doctor(client).run()
    assert _statuses(findings) == {**dict.fromkeys(CHECKS, OK), RESHAPED_CHECK[kind]: FAIL}
    flagged = next(f for f in findings if f.check == RESHAPED_CHECK[kind])
    assert "the answer differs from what the tool reads" in flagged.line
    assert flagged.facts["differences"] or not flagged.facts["parses"]


def test_a_role_assignment_principal_in_another_shape_names_the_missing_fields() -> None:
    with _client(Site(seed_state("demo"), Knobs(reshape=frozenset({"role-assignments"})))) as client:
        findings = Doctor(client).run()
    line = next(f.line for f in findings if f.check == "shape: role assignments")
    assert line == (
        "GET /spaces/{id}/role-assignments: the answer differs from what the tool reads: "
        "principal.principalType (string) missing; principal.principalId (string) missing"
    )


def test_a_role_mode_404_is_one_line_naming_the_missing_permission() -> None:
    with _client(Site(seed_state("demo"), Knobs(role_mode_not_found=True))) as client:
        findings = Doctor(client).run()
    mode = next(f for f in findings if f.check == "role mode")
    assert (mode.status, mode.line) == (FAIL, f"role mode: {ROLE_MODE_404}")
    assert "'Can use' global permission" in mode.line


def test_refused_credentials_fail_and_nothing_else_is_read() -> None:
    site = Site(seed_state("demo"))
    with _client(site, ("svc-reconciler@acme.example", "wrong")) as client:
        findings = Doctor(client).run()
    assert [(f.check, f.status) for f in findings] == [("credentials", FAIL), ("the rest", SKIP)]
    assert site.request_count == 1


def test_a_non_admin_account_is_reported_as_not_a_product_admin() -> None:
    with _client(Site(seed_state("demo")), ("heidi@acme.example", "sandbox-token-heidi")) as client:
        findings = Doctor(client).run()
    who = findings[0]
    assert (who.status, who.facts["product_admin"]) == (OK, False)
    assert who.line == ("credentials: the tool runs as Heidi Hansen (account type atlassian), not a product "
                        "admin (may grant only what it holds)")


def test_rate_limit_headers_are_reported_by_name_and_count_when_the_site_sends_them() -> None:
    with _client(Site(seed_state("demo"), Knobs(rate_limit=1000, burst=1000))) as client:
        findings = Doctor(client).run()
    rate = next(f for f in findings if f.check == "rate limits")
    assert set(rate.facts["headers"]) == {"x-ratelimit-limit", "x-ratelimit-remaining"}
    assert rate.line.startswith("rate limits: seen in ")


def test_the_json_report_holds_no_secret_name_or_id_of_a_person_group_or_space() -> None:
    site = Site(seed_state("demo+live"))
    with _client(site) as client:
        text = json.dumps(report(Doctor(client).run()))
    state = site.state
    forbidden = {admin_token("demo"), ADMIN_EMAIL, state.cloud_id, state.org_id}
    forbidden |= {u.account_id for u in state.users.values()} | {u.display_name for u in state.users.values()}
    forbidden |= {u.email for u in state.users.values() if u.email}
    forbidden |= {g.id for g in state.groups.values()} | {g.name for g in state.groups.values()}
    forbidden |= {s.key for s in state.spaces.values()} | {s.name for s in state.spaces.values()}
    forbidden |= {str(s.id) for s in state.spaces.values()} | {r.id for r in state.roles.values()}
    assert sorted(word for word in forbidden if word in text) == []
    assert json.loads(text)["ok"] is True
