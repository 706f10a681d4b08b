"""The Admin API adapter against the sandbox: reading, writing, error mapping, and no key in any message."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.confluence import dsp_wire
from reconciler.confluence.admin import AdminWriter, fetch_app_policies, open_admin_writer
from reconciler.errors import (
    ApiError,
    AuthError,
    NotFoundError,
    PlanFileError,
    PolicyError,
    StalePlanError,
    TransportError,
    UsageError,
)
from reconciler.model import AppBlockMode, AppPolicy
from reconciler.plan.changes import AppPolicyChange
from reconciler.plan.plan import Plan
from reconciler.plan.planfile import dump_plan, load_plan
from reconciler.sandbox.admin_api import add_policy
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.site import Site
from reconciler.sandbox.store import open_site
from reconciler.sandbox.transport import SandboxTransport
from tests.app_access import builders
from tests.app_access.sandbox_helpers import CLOUD, KEY, ORG, make_site

SITE = "https://acme.atlassian.net"
ENV = {"ATLASSIAN_ADMIN_API_KEY": KEY, "CONFLUENCE_EMAIL": "svc@acme.example", "CONFLUENCE_API_TOKEN": "tok"}
POLICIES = f"/admin/control/v2/orgs/{ORG}/policies"


def space_ids(site: Site) -> dict[str, str]:
    return {space.key: str(space.id) for space in site.state.spaces.values()}


def desired(*rules: builders.AppAccessRule, blocked: tuple[str, ...] = ()) -> builders.DesiredState:
    state = builders.desired(rules, blocked=blocked)
    assert state.app_access is not None
    return state


def writer(site: Site, env: dict[str, str] = ENV) -> AdminWriter:
    return open_admin_writer(desired(), space_ids(site), env, site_url=SITE, transport=SandboxTransport(site))


def test_fetch_returns_managed_policies_and_unmanaged_ones_covering_policy_spaces() -> None:
    site = make_site()
    add_policy(site.state, AppPolicy("Confidential spaces (1/2)", AppBlockMode.ALL, (), ("S01", "S02")))
    add_policy(site.state, AppPolicy("By hand", AppBlockMode.ONLY, ("ai",), ("S02",)))
    add_policy(site.state, AppPolicy("Elsewhere", AppBlockMode.ALL, (), ("S09",)))
    for number in range(25):  # more than one page (20 a page)
        add_policy(site.state, AppPolicy(f"Noise {number:02d}", AppBlockMode.ALL, (), ("S10",)))
    state = desired(builders.rule("Confidential spaces", ["S01"]), blocked=("S02",))
    found = fetch_app_policies(SITE, state, space_ids(site), ENV, transport=SandboxTransport(site))
    assert [(p.name, p.mode, p.apps, p.spaces) for p in found] == [
        ("By hand", AppBlockMode.ONLY, ("ai",), ("S02",)),
        ("Confidential spaces (1/2)", AppBlockMode.ALL, (), ("S01", "S02")),
    ]
    assert site.counters["GET /admin/control/v2/orgs/{id}/policies"] == 2


def test_writer_creates_updates_and_deletes_policies() -> None:
    site = make_site()
    with_writer = writer(site)
    created = AppPolicy("R", AppBlockMode.ALL, (), ("S01", "S02"))
    policy_id = with_writer.create(created)
    updated = AppPolicy("R", AppBlockMode.ALL_EXCEPT, ("ok.app",), ("S03",), id=policy_id)
    with_writer.apply_change(AppPolicyChange(new=updated,
                                    existing=replace(created, id=policy_id)))
    stored = site.state.org_policies[policy_id]["attributes"]
    assert stored["rule"] == {"appAccess": {"mode": "ALLOWLIST", "apps": ["ok.app"]}}
    assert stored["resources"] == [{"id": f"ari:cloud:confluence:{CLOUD}:space/1003",
                                    "applicationStatus": "applied"}]
    with_writer.apply_change(AppPolicyChange(existing=updated))
    assert site.state.org_policies == {}


def test_deleting_a_policy_that_is_gone_counts_as_done() -> None:
    site = make_site()
    writer(site).delete(AppPolicy("R", AppBlockMode.ALL, (), (), id="gone"))
    assert site.counters == {"GET /admin/control/v2/orgs/{id}/policies/gone": 1}


def test_updating_a_policy_that_is_gone_is_not_found() -> None:
    admin = writer(make_site())
    with pytest.raises(NotFoundError) as exc:
        admin.update(AppPolicy("R", AppBlockMode.ALL, (), ("S01",), id="gone"),
                     AppPolicy("R", AppBlockMode.ALL, (), ("S02",), id="gone"))
    assert str(exc.value) == f"GET {POLICIES}/gone: 404: Not Found: Policy gone not found"


def test_create_again_after_a_crash_does_not_duplicate() -> None:
    site = make_site()
    policy = AppPolicy("R", AppBlockMode.ALL, (), ("S01",))
    first = writer(site).create(policy)
    assert writer(site).create(policy) == first
    assert list(site.state.org_policies) == [first]


def test_create_refuses_when_a_different_policy_has_the_name() -> None:
    site = make_site()
    other = add_policy(site.state, AppPolicy("R", AppBlockMode.ALL, (), ("S02",)))
    admin = writer(site)
    with pytest.raises(StalePlanError) as exc:
        admin.create(AppPolicy("R", AppBlockMode.ALL, (), ("S01",)))
    assert str(exc.value) == (f"app access policy 'R': a different policy of that name exists on the org "
                              f"(id {other}); run `reconciler plan` again")


def test_update_already_applied_sends_no_write() -> None:
    site = make_site()
    policy_id = add_policy(site.state, AppPolicy("R", AppBlockMode.ALL, (), ("S01",)))
    writer(site).update(AppPolicy("R", AppBlockMode.ALL, (), ("S01",), id=policy_id),
                        AppPolicy("R", AppBlockMode.ALL, (), ("S02",), id=policy_id))
    assert site.counters == {"GET /admin/control/v2/orgs/{id}/policies/{id}": 1}


def test_limit_refused_by_the_api_is_an_api_error_with_its_detail() -> None:
    big = AppPolicy("Big", AppBlockMode.ALL, (), tuple(f"S{n:02d}" for n in range(1, 17)))
    admin = writer(make_site())
    with pytest.raises(ApiError) as exc:
        admin.create(big)
    assert str(exc.value) == (f"POST {POLICIES}: 400: Bad Request: A policy covers at most 15 spaces per "
                              "product instance; got 16")


def test_a_space_not_on_the_site_is_named_before_any_request() -> None:
    site = make_site()
    admin = writer(site)
    with pytest.raises(PolicyError) as exc:
        admin.create(AppPolicy("R", AppBlockMode.ALL, (), ("NOPE", "S01"),
                               source=builders.Source("policies/app-access.yaml", 6, 7)))
    assert str(exc.value) == ("policies/app-access.yaml:6:7: app_access: app access policy 'R': space NOPE "
                              "is not on the site")
    assert site.counters == {"GET /wiki/api/v2/spaces": 1}  # the look-up of NOPE; no policy request


def test_missing_admin_key_is_a_usage_error_naming_the_variable() -> None:
    env = {k: v for k, v in ENV.items() if k != "ATLASSIAN_ADMIN_API_KEY"}
    with pytest.raises(UsageError) as exc:
        fetch_app_policies(SITE, desired(), {}, env, transport=SandboxTransport(make_site()))
    assert "ATLASSIAN_ADMIN_API_KEY" in str(exc.value)


def test_wrong_admin_key_is_an_auth_error_without_the_key() -> None:
    secret = "wrong-secret-key-93c1"
    env = {**ENV, "ATLASSIAN_ADMIN_API_KEY": secret}
    with pytest.raises(AuthError) as exc:
        fetch_app_policies(SITE, desired(), {}, env, transport=SandboxTransport(make_site()))
    assert str(exc.value) == (f"GET {POLICIES}: 401: Unauthorized: The API key is missing or not valid for "
                              "this organization; check ATLASSIAN_ADMIN_API_KEY")
    assert secret not in repr(exc.value)


def test_missing_org_id_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as exc:
        fetch_app_policies(SITE, builders.desired(app_access=False), {}, ENV,
                           transport=SandboxTransport(make_site()))
    assert str(exc.value) == ("app access needs app_access.org_id in the policy (the Admin API organisation "
                              "id)")


def test_sandbox_site_uses_its_own_org_key(tmp_path: Path) -> None:
    state = desired(builders.rule("Confidential spaces", ["FIN"]))
    demo = open_site("demo", tmp_path)
    ids = space_ids(demo)
    found = fetch_app_policies("sandbox:demo", state, ids, {}, state_dir=tmp_path)
    assert [(p.name, p.spaces, p.coverage) for p in found] == [("Confidential spaces", ("FIN",), "CONTAINER")]


def test_cloud_id_from_env_skips_the_tenant_info_request() -> None:
    site = make_site()
    env = {**ENV, "ATLASSIAN_CLOUD_ID": CLOUD}
    fetch_app_policies(SITE, desired(), {}, env, transport=SandboxTransport(site))
    assert site.request_count == 1


def test_writer_looks_up_spaces_it_was_not_given() -> None:
    site = make_site()
    admin = open_admin_writer(desired(), {}, ENV, site_url=SITE, transport=SandboxTransport(site))
    policy_id = admin.create(AppPolicy("R", AppBlockMode.ALL, (), ("S05",)))
    assert site.state.org_policies[policy_id]["attributes"]["resources"][0]["id"] == (
        f"ari:cloud:confluence:{CLOUD}:space/1005")


def test_fetch_looks_up_covered_spaces_it_was_not_given() -> None:
    site = make_site()
    add_policy(site.state, AppPolicy("Confidential spaces", AppBlockMode.ALL, (), ("S01", "S07")))
    state = desired(builders.rule("Confidential spaces", ["S01"]))
    [found] = fetch_app_policies(SITE, state, {"S01": "1001"}, ENV, transport=SandboxTransport(site))
    assert found.spaces == ("S01", "S07")


def test_a_create_whose_answer_was_lost_converges_on_the_next_run() -> None:
    site = make_site()
    policy = AppPolicy("R", AppBlockMode.ALL, (), ("S01",))
    admin = writer(site)
    document = dsp_wire.to_wire(policy, CLOUD, space_ids(site))
    site.configure(Knobs(fault_rate=1.0, fault_kinds=("drop",)))
    with pytest.raises(TransportError) as exc:
        admin.api.create(document)  # the POST of a create, answered by a dropped connection
    site.configure(Knobs())
    assert "the outcome of this write is unknown" in str(exc.value)
    [created] = site.state.org_policies  # the write happened; its answer was lost
    assert writer(site).create(policy) == created
    assert list(site.state.org_policies) == [created]


def test_update_refuses_a_policy_an_org_admin_changed_since_the_plan() -> None:
    site = make_site()
    planned = AppPolicy("R", AppBlockMode.ALL, (), ("S01",))
    policy_id = add_policy(site.state, planned)
    admin = writer(site)
    by_hand = AppPolicy("R", AppBlockMode.ALL, (), ("S01", "S04"), id=policy_id)
    admin.api.update(policy_id, dsp_wire.to_wire(by_hand, CLOUD, space_ids(site)))  # an org admin's edit
    with pytest.raises(StalePlanError) as exc:
        admin.apply_change(AppPolicyChange(new=AppPolicy("R", AppBlockMode.ALL, (), ("S02",), id=policy_id),
                                  existing=replace(planned, id=policy_id)))
    assert str(exc.value) == "app policy 'R' changed since the plan was made; run `reconciler plan` again"
    assert [r["id"] for r in site.state.org_policies[policy_id]["attributes"]["resources"]] == [
        f"ari:cloud:confluence:{CLOUD}:space/1001", f"ari:cloud:confluence:{CLOUD}:space/1004"]


def test_delete_refuses_a_policy_an_org_admin_changed_since_the_plan() -> None:
    site = make_site()
    planned = AppPolicy("R", AppBlockMode.ALL, (), ("S01",))
    policy_id = add_policy(site.state, planned)
    admin = writer(site)
    by_hand = AppPolicy("R", AppBlockMode.ONLY, ("com.example.bot",), ("S01",), id=policy_id)
    admin.api.update(policy_id, dsp_wire.to_wire(by_hand, CLOUD, space_ids(site)))
    site.reset_counters()
    with pytest.raises(StalePlanError) as exc:
        admin.apply_change(AppPolicyChange(existing=replace(planned, id=policy_id)))
    assert str(exc.value) == "app policy 'R' changed since the plan was made; run `reconciler plan` again"
    assert list(site.state.org_policies) == [policy_id]
    assert site.counters == {"GET /admin/control/v2/orgs/{id}/policies/{id}": 1}


def test_delete_of_a_policy_unchanged_since_the_plan_deletes_it() -> None:
    site = make_site()
    planned = AppPolicy("R", AppBlockMode.ONLY, ("b.app", "a.app"), ("S02", "S01"))
    policy_id = add_policy(site.state, planned)
    change = AppPolicyChange(existing=replace(planned, id=policy_id))
    writer(site).apply_change(change)
    assert site.state.org_policies == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (AppPolicyChange(new=AppPolicy("R", AppBlockMode.ALL, (), ("S01",)),
                existing=AppPolicy("R", AppBlockMode.ALL, (), ())),
         "app policy 'R' has no live policy id to update"),
        (AppPolicyChange(existing=AppPolicy("R", AppBlockMode.ALL, (), ())),
         "app policy 'R' has no live policy id to delete"),
    ],
    ids=["update without an id", "delete without an id"],
)
def test_malformed_change_is_a_one_line_plan_file_error_before_any_request(
    change: AppPolicyChange, message: str
) -> None:
    site = make_site()
    with pytest.raises(PlanFileError) as exc:
        writer(site).apply_change(change)
    assert str(exc.value) == f"the plan file is malformed: {message}; run `reconciler plan` again"
    assert site.request_count == 0


POLICY_R = {"name": "R", "mode": "all", "apps": [], "spaces": [], "coverage": "CONTAINER", "id": "p1",
            "source": None}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "update_app_policy", "app_policy": POLICY_R},
         ("plan file: plan.changes[0]: its fields make a create_app_policy change, but its kind is "
          "update_app_policy")),
        ({"kind": "create_app_policy"},
         "plan file: plan.changes[0]: an app policy change needs a new or an existing policy"),
        ({"kind": "assign", "app_policy": POLICY_R}, "plan file: plan.changes[0].space: missing"),
    ],
    ids=["update without the old policy", "create without a policy", "not an app policy change"],
)
def test_malformed_app_policy_change_in_a_plan_file_is_a_one_line_error_before_any_request(
    change: dict[str, Any], message: str
) -> None:
    """The plan file cannot even hold these: the typed change has no such form, so loading refuses it."""
    doc = json.loads(dump_plan(Plan("sandbox:test", "ROLES", "d", "f", (), ())))
    doc["changes"] = [change]
    with pytest.raises(PlanFileError) as exc:
        load_plan(json.dumps(doc))
    assert str(exc.value) == message
