"""The sandbox's Admin API follows the documented lifecycle and refuses what the real one refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.model import DsRule, Effect
from reconciler.sandbox import admin_api
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.site import Site
from tests.sandbox.admin_api_helpers import ORG, V1, V2, ari, body, client, make_site


@pytest.fixture
def site() -> Site:
    return make_site()


@pytest.fixture
def api(site: Site) -> httpx.Client:
    return client(site)


def create(api: httpx.Client, payload: dict[str, Any]) -> str:
    response = api.post(V2, json=payload)
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def publish(api: httpx.Client, rule: str, *ids: str) -> httpx.Response:
    return api.post(
        f"{V2}/publishDraftPolicies",
        json={"ruleName": rule, "policyOperations": [{"policyId": i, "action": "PUBLISH"} for i in ids]},
    )


def errors(response: httpx.Response) -> list[tuple[str, str]]:
    return [(e["code"], e["detail"]) for e in response.json()["errors"]]


def test_a_created_policy_is_a_draft_that_enforces_nothing_until_published(
    site: Site, api: httpx.Client
) -> None:
    org = create(api, body("export", "allow"))
    override = create(api, body("export", "block", "CONTAINER"))
    assert api.post(f"{V1}/{override}/resources", json={"id": ari(1001)}).json() == {
        "id": ari(1001),
        "applicationStatus": "validating",
    }
    assert api.get(f"{V2}/{override}").json()["data"]["attributes"]["status"] == "draft"
    with site.reading() as state:
        assert admin_api.enforced(state, DsRule.EXPORT, "S01") is None

    assert publish(api, "export", org, override).status_code == 202
    with site.reading() as state:
        assert (
            admin_api.enforced(state, DsRule.EXPORT, "S01"),
            admin_api.enforced(state, DsRule.EXPORT, "S02"),
        ) == (Effect.BLOCK, Effect.ALLOW)
    resources = api.get(f"{V1}/{override}/resources").json()["data"]
    assert resources == [{"id": ari(1001), "applicationStatus": "applied"}]


def test_an_override_without_an_org_policy_for_its_rule_is_admin_400_24(api: httpx.Client) -> None:
    create(api, body("publicLinks", "block"))
    response = api.post(V2, json=body("export", "block", "CONTAINER"))
    assert response.status_code == 400
    assert errors(response) == [
        ("ADMIN-400-24", "The draft org-wide policy does not contain the rule being overridden")
    ]


def test_app_access_overrides_need_the_org_policy_of_the_same_subject(api: httpx.Client) -> None:
    app = "ari:cloud:ecosystem::app/abc"
    create(api, body("appAccess", "allow", subject="all_apps"))
    refused = api.post(V2, json=body("appAccess", "block", "CONTAINER", subject=app))
    assert errors(refused)[0][0] == "ADMIN-400-24"
    create(api, body("appAccess", "allow", subject=app))
    create(api, body("appAccess", "block", "CONTAINER", subject=app))


def test_a_second_draft_for_one_rule_and_level_is_redundant(api: httpx.Client) -> None:
    create(api, body("export", "allow"))
    create(api, body("export", "block", "CONTAINER"))
    response = api.post(V2, json=body("export", "allow", "CONTAINER"))
    assert (response.status_code, errors(response)) == (
        400,
        [("ADMIN-400-25", "Redundant draft override rule found")],
    )


@pytest.mark.parametrize(
    ("mutate", "detail"),
    [
        (lambda a: a.update(policyCoverageLevel="CONTAINER"), "Unknown attributes: policyCoverageLevel"),
        (lambda a: a.update(resources=[{"id": "x"}]), "Unknown attributes: resources"),
        (
            lambda a: a.update(status="enabled"),
            "Policies are created and updated as drafts; publish them with publishDraftPolicies",
        ),
        (lambda a: a.pop("metadata"), "'metadata' must be an object of the published metadata fields"),
        (
            lambda a: a.update(rule={"appAccess": {"mode": "BLOCK_ALL"}}),
            'Rule appAccess must be {"effect": "block" | "allow"} with a subjectId',
        ),
        (
            lambda a: a.update(
                rule={"export": {"effect": "block"}, "publicLinks": {"effect": "block"}},
                metadata={"policyCoverageLevel": "CONTAINER"},
            ),
            "Each policy must contain exactly one rule (an org-wide policy may hold several)",
        ),
        (
            lambda a: a.update(
                rule={"appAccess": {"effect": "block", "subjectId": "all_apps"}},
                metadata={"policyCoverageLevel": "WORKSPACE"},
            ),
            "App access rules support CONTAINER and ORG coverage only",
        ),
    ],
    ids=[
        "coverage outside metadata",
        "inline resources",
        "enabled on create",
        "no metadata",
        "the old guessed app rule",
        "two rules in an override",
        "app access at workspace level",
    ],
)
def test_bodies_outside_the_published_model_are_refused(api: httpx.Client, mutate: Any, detail: str) -> None:
    payload = body()
    mutate(payload["data"]["attributes"])
    response = api.post(V2, json=payload)
    assert (response.status_code, errors(response)) == (400, [("ADMIN-400-1", detail)])


def test_v1_delete_answers_202_and_the_policy_stays_readable_as_deleted(api: httpx.Client) -> None:
    draft = create(api, body())
    assert api.delete(f"{V2}/{draft}").status_code == 405
    assert api.delete(f"{V1}/{draft}").status_code == 202
    assert api.get(f"{V2}/{draft}").json()["data"]["attributes"]["status"] == "deleted"
    create(api, body())  # a deleted draft no longer counts as the rule's draft


def test_published_policies_change_only_through_a_new_draft_that_replaces_them(api: httpx.Client) -> None:
    first = create(api, body("export", "allow"))
    publish(api, "export", first)
    refused = api.put(f"{V2}/{first}", json=body("export", "block"))
    assert refused.status_code == 400
    assert errors(refused)[0][0] == "ADMIN-400-5"
    second = create(api, body("export", "block"))
    assert publish(api, "export", second).status_code == 202
    statuses = {p["id"]: p["attributes"]["status"] for p in api.get(V2).json()["data"]}
    assert statuses == {first: "deleted", second: "published"}


def test_a_draft_is_updated_with_202_but_its_coverage_level_is_fixed(api: httpx.Client) -> None:
    create(api, body("export", "allow"))
    draft = create(api, body("export", "block", "CONTAINER"))
    assert api.put(f"{V2}/{draft}", json=body("export", "allow", "CONTAINER")).status_code == 202
    moved = api.put(f"{V2}/{draft}", json=body("export", "allow", "WORKSPACE"))
    assert errors(moved) == [
        ("ADMIN-400-4", "The coverage level of a policy cannot change once set (it is CONTAINER)")
    ]


def test_resources_must_be_spaces_of_the_site_and_at_most_2000(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(api, body())
    draft = create(api, body("export", "block", "CONTAINER"))
    foreign = api.post(f"{V1}/{draft}/resources", json={"id": "ari:cloud:confluence:other:space/1"})
    assert errors(foreign) == [
        (
            "ADMIN-400-4",
            ("Resource ari:cloud:confluence:other:space/1 is not a space of a "
             "product instance of this organization"),
        )
    ]
    monkeypatch.setattr(admin_api, "MAX_OVERRIDE_SPACES", 2)
    for space_id in (1001, 1002):
        assert api.post(f"{V1}/{draft}/resources", json={"id": ari(space_id)}).status_code == 202
    full = api.post(f"{V1}/{draft}/resources", json={"id": ari(1003)})
    assert errors(full) == [("ADMIN-400-2", "An override covers at most 2 spaces")]
    assert api.delete(f"{V1}/{draft}/resources/{ari(1002)}").status_code == 202
    assert [r["id"] for r in api.get(f"{V1}/{draft}/resources").json()["data"]] == [ari(1001)]


def test_not_found_bodies_are_code_and_message(api: httpx.Client) -> None:
    response = api.get(f"{V2}/no-such-policy")
    assert (response.status_code, response.json()) == (
        404,
        {"code": 404, "message": "Policy no-such-policy not found"},
    )
    other = api.get("/admin/control/v2/orgs/another-org/policies")
    assert other.json() == {"code": 404, "message": "Organization another-org not found"}


@pytest.mark.parametrize("status", [503, 404])
def test_the_deprecated_api_can_be_disabled_for_a_while(site: Site, api: httpx.Client, status: int) -> None:
    site.configure(Knobs(admin_api_down=status))
    assert api.get(V2).status_code == status
    site.configure(Knobs())
    assert api.get(V2).status_code == 200


def test_a_wrong_key_is_401_and_no_org_data_leaks(site: Site) -> None:
    response = client(site, "wrong").get(V2)
    assert response.status_code == 401
    assert ORG not in response.text
