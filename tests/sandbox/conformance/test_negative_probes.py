"""Issue 12, items 1 and 5: requests the published spec does not allow are refused by the sandbox, with a
status the spec declares for the operation (the exceptions are listed, each with its reason)."""

from __future__ import annotations

from typing import Any, NamedTuple

import httpx
import pytest

from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.site import Site
from reconciler.sandbox.transport import SandboxTransport
from tests.sandbox.conformance import spec

ENG = "/wiki/api/v2/spaces/1441793"
ROLES = "/wiki/api/v2/space-roles"
ALICE = "5b10ac8d82e05b22cc7d4ef5"
ROLE_BODY = {"name": "Probe", "description": "d", "spacePermissions": ["read/space"]}

# Where the spec declares no status for invalid input, the sandbox answers 400 (what it documents for
# "invalid request" elsewhere): (operation, status) -> why.
UNDECLARED = {
    ("GET /wiki/rest/api/group", 400): "the v1 group list declares only 200 and 403; accessType is an enum",
}

class Probe(NamedTuple):
    name: str
    method: str
    path: str
    params: dict[str, str]
    body: Any  # JSON body, or None
    status: int  # the refusal expected


V1_GRANT = {"subject": {"type": "user", "identifier": ALICE}, "operation": {"key": "read", "target": "space"}}
ASSIGNMENTS = f"{ENG}/role-assignments"
V1_OPS = "/wiki/rest/api/space/OPS/permission"
ALICE_ENTRY = {"principal": {"principalType": "USER", "principalId": ALICE}}
ROBOT = {"principal-type": "ROBOT", "principal-id": ALICE}
PROBES = [  # none sends the XSRF header
    Probe("assignment body is a single object", "POST", ASSIGNMENTS, {}, ALICE_ENTRY, 400),
    Probe("assignment entry without principal", "POST", ASSIGNMENTS, {}, [{"roleId": "x"}], 400),
    Probe("assignment principalType outside the enum", "POST", ASSIGNMENTS, {},
          [{"principal": {"principalType": "ROBOT", "principalId": ALICE}}], 400),
    Probe("spaces type outside the enum", "GET", "/wiki/api/v2/spaces", {"type": "bogus"}, None, 400),
    Probe("spaces status outside the enum", "GET", "/wiki/api/v2/spaces", {"status": "deleted"}, None, 400),
    Probe("spaces sort outside the enum", "GET", "/wiki/api/v2/spaces", {"sort": "size"}, None, 400),
    Probe("spaces limit 0", "GET", "/wiki/api/v2/spaces", {"limit": "0"}, None, 400),
    Probe("spaces limit 251", "GET", "/wiki/api/v2/spaces", {"limit": "251"}, None, 400),
    Probe("roles limit 251", "GET", ROLES, {"limit": "251"}, None, 400),
    Probe("catalogue limit 0", "GET", "/wiki/api/v2/space-permissions", {"limit": "0"}, None, 400),
    Probe("permissions limit 300", "GET", f"{ENG}/permissions", {"limit": "300"}, None, 400),
    Probe("assignments limit 0", "GET", f"{ENG}/role-assignments", {"limit": "0"}, None, 400),
    Probe("roles principal-type outside the enum", "GET", ROLES, ROBOT, None, 400),
    Probe("assignments principal-type outside the enum", "GET", f"{ENG}/role-assignments", ROBOT, None, 400),
    Probe("role create without name", "POST", ROLES, {},
          {"description": "d", "spacePermissions": ["read/space"]}, 400),
    Probe("role create without description", "POST", ROLES, {},
          {"name": "P", "spacePermissions": ["read/space"]}, 400),
    Probe("role create without spacePermissions", "POST", ROLES, {}, {"name": "P", "description": "d"}, 400),
    Probe("v1 grant without the XSRF header", "POST", V1_OPS, {}, V1_GRANT, 403),
    Probe("v1 revoke without the XSRF header", "DELETE", "/wiki/rest/api/space/OPS/permission/100001", {},
          None, 403),
    Probe("group list accessType outside the enum", "GET", "/wiki/rest/api/group", {"accessType": "everyone"},
          None, 400),
]


def _client(site: Site) -> httpx.Client:
    return httpx.Client(base_url="https://acme.atlassian.net", auth=(ADMIN_EMAIL, admin_token("demo")),
                        transport=SandboxTransport(site))


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_a_request_outside_the_spec_is_refused_with_a_declared_status(probe: Probe) -> None:
    site = Site(seed_state("demo"))
    before = site.to_json_text()
    with _client(site) as client:
        response = client.request(probe.method, probe.path, params=probe.params, json=probe.body)
    assert response.status_code == probe.status, response.text
    assert site.to_json_text() == before  # refused: nothing changed
    operation = spec.find(probe.method, probe.path)
    assert operation is not None
    assert probe.status in operation.statuses() or (operation.name, probe.status) in UNDECLARED
    if probe.body is not None and probe.status == 400:
        assert spec.request_errors(operation, probe.body) != []  # the probe really is outside the spec


def test_the_role_update_without_a_required_field_is_400() -> None:
    site = Site(seed_state("demo"))
    role = site.state.role_by_name("Legal Reviewer")
    assert role is not None
    body = {"name": "Legal Reviewer", "spacePermissions": ["read/space"]}
    with _client(site) as client:
        response = client.put(f"{ROLES}/{role.id}", json=body)
    operation = spec.find("PUT", f"{ROLES}/{role.id}")
    assert operation is not None
    assert (response.status_code, spec.request_errors(operation, body) != []) == (400, True)


def test_space_role_mode_404_is_a_declared_answer() -> None:
    site = Site(seed_state("demo"), Knobs(role_mode_not_found=True))
    with _client(site) as client:
        response = client.get("/wiki/api/v2/space-role-mode")
    operation = spec.find("GET", "/wiki/api/v2/space-role-mode")
    assert operation is not None
    assert response.status_code == 404
    assert 404 in operation.statuses()


def test_a_role_with_a_catalogue_only_id_is_accepted_on_a_live_site_and_its_answer_fits() -> None:
    site = Site(seed_state("demo+live"))
    body = {**ROLE_BODY, "spacePermissions": ["read/space", "manage_templates/space"]}
    with _client(site) as client:
        response = client.post(ROLES, json=body)
    operation = spec.find("POST", ROLES)
    assert operation is not None
    assert response.status_code == 201
    assert spec.response_errors(operation, 201, response.json()) == []


def test_a_role_with_an_id_outside_the_catalogue_is_400() -> None:
    site = Site(seed_state("demo+plain"))  # the plain catalogue: the 14 v1 pairs
    body = {**ROLE_BODY, "spacePermissions": ["read/space", "manage_templates/space"]}
    with _client(site) as client:
        response = client.post(ROLES, json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "Unknown space permission ids: manage_templates/space"
