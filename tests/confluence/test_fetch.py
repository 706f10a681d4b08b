"""fetch_live against the in-process sandbox: call counts, scope, all-or-nothing, identities."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
import pytest

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.retry import RetryPolicy
from reconciler.errors import ApiError, NotFoundError, PolicyError, UsageError
from reconciler.live_state import LiveState
from reconciler.model import (
    Authority,
    DefaultRule,
    DesiredSpace,
    DesiredState,
    Principal,
    PrincipalKind,
    RoleMode,
    SiteModel,
    Source,
    SpaceSelector,
)
from reconciler.policy.loader import load_policy
from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state, synthetic_assignments
from reconciler.sandbox.site import Site
from reconciler.sandbox.state import SiteState
from reconciler.sandbox.transport import SandboxTransport
from tests.kit.sites import fetch_live
from tests.kit.sites import site_client as open_client
from tests.kit.state import desired_state

from .conftest import Sleeps

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SYNTH = "synthetic:spaces=40,per_space=6,seed=3"
SITE_YAML = Source("policies/site.yaml", 4, 3)
ASSIGNMENTS = "GET /wiki/api/v2/spaces/{id}/role-assignments"
PERMISSIONS = "GET /wiki/api/v2/spaces/{id}/permissions"


def keys(first: int, last: int) -> list[str]:
    return [f"S{i:05d}" for i in range(first, last + 1)]


def desired(
    space_keys: Iterable[str] = (),
    *,
    selectors: Iterable[SpaceSelector] = (),
    model: SiteModel = SiteModel.AUTO,
) -> DesiredState:
    actor = Principal(PrincipalKind.USER, SVC_ACCOUNT_ID, label="svc-reconciler")
    source = Source("policies/spaces/X.yaml", 2)
    return desired_state(
        url="sandbox:x", model=model, actor=actor, site_source=SITE_YAML,
        defaults=tuple(DefaultRule(f"rule-{i}", s, (), source) for i, s in enumerate(selectors)),
        spaces={k: DesiredSpace(k, Authority.EXACT, (), (), False, (), source) for k in space_keys},
        digest="test",
    )


class Sandbox:
    """A fresh sandbox site and a read-only client on it, with sleeps recorded instead of slept."""

    def __init__(
        self,
        name: str,
        *,
        knobs: Knobs | None = None,
        change: Callable[[SiteState], None] | None = None,
        wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        state = seed_state(name)
        if change:
            change(state)
        self.site = Site(state, knobs)
        transport: httpx.BaseTransport = SandboxTransport(self.site)
        self.sleeps = Sleeps()
        self.client = ConfluenceClient(
            "https://sandbox.invalid",
            auth=httpx.BasicAuth(ADMIN_EMAIL, admin_token(name)),
            transport=wrap(transport) if wrap else transport,
            read_only=True,
            retry=retry or RetryPolicy(max_retries=10),
            sleep=self.sleeps,
            clock=self.sleeps.now,
            rng=random.Random(1),
        )

    def counts(self, key: str) -> int:
        return self.site.counters.get(key, 0)


class FailingPath(httpx.BaseTransport):
    """Answers ``status`` for one path; the rest goes to the sandbox."""

    def __init__(self, inner: httpx.BaseTransport, path: str, status: int) -> None:
        self.inner, self.path, self.status = inner, path, status

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self.path:
            return httpx.Response(self.status, json={"errors": [{"status": self.status, "title": "boom"}]})
        return self.inner.handle_request(request)


class RateLimitFirstTry(httpx.BaseTransport):
    """A 429 storm: every request is refused once with ``Retry-After: 2`` before it is let through."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url not in self.seen:
            self.seen.add(url)
            return httpx.Response(429, headers={"Retry-After": "2"})
        return self.inner.handle_request(request)


def test_a_roles_site_costs_one_read_per_managed_space_and_only_gets() -> None:
    box = Sandbox(SYNTH)

    live = fetch_live(box.client, desired(keys(1, 12)))

    assert live.mode is RoleMode.ROLES
    assert sorted(live.spaces) == keys(1, 12)
    assert box.counts(ASSIGNMENTS) == 12
    assert box.counts(PERMISSIONS) == 0
    assert box.site.counters == {
        "GET /wiki/api/v2/space-permissions": 1,
        "GET /wiki/api/v2/space-role-mode": 1,
        "GET /wiki/api/v2/space-roles": 1,
        "GET /wiki/api/v2/spaces": 1,
        ASSIGNMENTS: 12,
        "GET /wiki/rest/api/group": 1,
        "GET /wiki/rest/api/user/bulk": 1,  # every account seen or named, 100 per request
        "GET /wiki/rest/api/user/current": 1,  # roles-only: product admin or not
    }
    assert box.client.request_counts == {"GET": 19}


def test_live_assignments_name_groups_and_keep_users_by_account_id() -> None:
    box = Sandbox(SYNTH)

    live = fetch_live(box.client, desired(["S00001"]))

    expected = {}
    for ref, role in synthetic_assignments(40, 6, 3)["S00001"].items():
        kind, _, ident = ref.partition(":")
        expected[Principal(PrincipalKind(kind), ident)] = role
    assert dict(live.spaces["S00001"].assignments) == expected
    assert set(live.roles) == {"Admin", "Manager", "Collaborator", "Viewer"}
    assert "read/space" in live.permissions
    groups = {p.id for p in expected if p.kind is PrincipalKind.GROUP}
    assert set(live.group_ids) == groups


def test_a_defaults_selector_lists_every_space_and_selects_locally() -> None:
    box = Sandbox(SYNTH)

    live = fetch_live(box.client, desired(selectors=[SpaceSelector(keys=("S0000*",))]))

    assert sorted(live.spaces) == keys(1, 9)
    assert [info.key for info in live.unmanaged] == keys(10, 40)
    assert box.counts("GET /wiki/api/v2/spaces") == 1
    assert box.counts(ASSIGNMENTS) == 9


def test_policy_keys_are_looked_up_in_batches_of_250() -> None:
    box = Sandbox("synthetic:spaces=300,per_space=1,seed=1")

    live = fetch_live(box.client, desired(keys(1, 300)))

    assert len(live.spaces) == 300
    assert box.counts("GET /wiki/api/v2/spaces") == 2
    assert box.counts(ASSIGNMENTS) == 300


def test_a_policy_space_the_site_does_not_show_is_an_error_naming_it() -> None:
    box = Sandbox(SYNTH, knobs=Knobs(hidden_spaces=frozenset({"S00002"})))

    with pytest.raises(NotFoundError) as exc:
        fetch_live(box.client, desired(keys(1, 3)))

    assert str(exc.value) == "space S00002: not found: deleted, or hidden from the account the tool runs as"
    assert box.counts(ASSIGNMENTS) == 0


def test_a_space_deleted_after_it_was_listed_is_named_as_not_found() -> None:
    box = Sandbox(
        SYNTH, wrap=lambda inner: FailingPath(inner, "/wiki/api/v2/spaces/2000005/role-assignments", 404)
    )

    with pytest.raises(NotFoundError) as exc:
        fetch_live(box.client, desired(keys(1, 12)))

    assert str(exc.value) == "space S00005: not found: deleted, or hidden from the account the tool runs as"


def test_drift_may_allow_missing_spaces_and_gets_them_listed() -> None:
    box = Sandbox(SYNTH, knobs=Knobs(hidden_spaces=frozenset({"S00002"})))

    live = fetch_live(box.client, desired(keys(1, 3)), allow_missing=True)

    assert live.missing == ("S00002",)
    assert sorted(live.spaces) == ["S00001", "S00003"]


def test_a_failed_read_of_one_space_is_an_error_naming_that_space_and_no_live_state() -> None:
    box = Sandbox(
        SYNTH,
        wrap=lambda inner: FailingPath(inner, "/wiki/api/v2/spaces/2000003/role-assignments", 500),
        retry=RetryPolicy(max_retries=1),
    )

    with pytest.raises(ApiError) as exc:
        fetch_live(box.client, desired(keys(1, 12)))

    assert str(exc.value) == (
        "GET /wiki/api/v2/spaces/2000003/role-assignments (space S00003): 500: Internal Server Error: boom "
        "(after 2 attempts)"
    )


def test_a_429_storm_and_injected_faults_still_yield_the_same_live_state() -> None:
    calm = Sandbox(SYNTH)
    clean = fetch_live(calm.client, desired(keys(1, 20)))
    storms: list[RateLimitFirstTry] = []
    storm = Sandbox(SYNTH, wrap=lambda inner: storms.append(RateLimitFirstTry(inner)) or storms[-1])
    faulty = Sandbox(
        SYNTH,
        knobs=Knobs(fault_rate=0.3, fault_seed=5, fault_kinds=("500", "502", "503", "drop"), retry_after_s=0),
    )

    assert fetch_live(storm.client, desired(keys(1, 20))) == clean
    assert fetch_live(faulty.client, desired(keys(1, 20))) == clean
    assert storm.client.request_count == 2 * len(storms[0].seen)  # every request refused once, then served
    # the Retry-After (to a float rounding: the pace holds until a time, and the wait is that less now);
    # shorter waits are the pace's spacing after the 429s
    assert max(storm.sleeps) == pytest.approx(2.0, abs=1e-9)
    assert faulty.client.request_count > calm.client.request_count  # the faults were real: retries
    assert all(key.startswith("GET ") for key in faulty.site.counters)


def test_a_transition_site_reads_roles_and_custom_access_grants() -> None:
    box = Sandbox("demo")
    policy = load_policy(POLICIES)
    progress: list[str] = []

    live = fetch_live(box.client, policy, progress=progress.append)

    assert live.mode is RoleMode.ROLES_TRANSITION
    managed = ["DOCS", "ENG", "FIN", "HR", "LEGAL", "MKT", "OPS", "PUBLIC", "SALES", "SANDBOX"]
    assert sorted(live.spaces) == managed
    assert [info.key for info in live.unmanaged] == ["~5b10ac8d82e05b22cc7d4ef5"]
    assert box.counts(ASSIGNMENTS) == box.counts(PERMISSIONS) == len(managed)
    ops = live.spaces["OPS"]
    contractors = Principal(PrincipalKind.GROUP, "contractors")
    assert [p for p in ops.grants if not p.id.startswith("557058:")] == [contractors]  # and the apps' users
    assert live.accounts is not None
    assert len(live.accounts.apps) == 3
    assert set(ops.grants[contractors]) == {"read/space"}
    assert contractors not in ops.assignments
    gina = next(p for p in live.spaces["DOCS"].assignments if p.label == "gina")
    assert gina.display == "user:gina"
    assert {"Legal Reviewer", "Old Auditor"} <= set(live.roles)
    assert progress[:3] == [
        "reading the site's role mode",
        "listing roles, spaces and groups",
        "reading 10 spaces",
    ]
    assert progress[-3:] == ["read 10/10 spaces", "looking up accounts",
                             "reading the members of groups that give more than guests.max_role"]
    # guests.max_role is Viewer: the guests of groups holding more (contractors, in an additive space)
    assert live.guest_members == {"contractors": ("5b10a2844c20165700ede21b",)}


def test_a_group_the_site_cannot_name_is_kept_by_id_as_unknown() -> None:
    def add_deleted_group(state: SiteState) -> None:
        viewer = state.role_by_name("Viewer")
        assert viewer is not None
        state.spaces[2000001].assignments[("GROUP", "0000dead-beef-4000-8000-000000000000")] = viewer.id

    box = Sandbox(SYNTH, change=add_deleted_group)

    live = fetch_live(box.client, desired(["S00001"]))

    ghost = Principal(PrincipalKind.GROUP, "0000dead-beef-4000-8000-000000000000")
    found = next(p for p in live.spaces["S00001"].assignments if p == ghost)
    assert found.unknown
    assert live.spaces["S00001"].assignments[ghost] == "Viewer"
    assert box.counts("GET /wiki/rest/api/group/by-id") == 1


def test_a_site_model_that_does_not_fit_the_role_mode_is_a_policy_error() -> None:
    box = Sandbox(SYNTH)

    with pytest.raises(PolicyError) as exc:
        fetch_live(box.client, desired(["S00001"], model=SiteModel.LEGACY))

    assert str(exc.value) == (
        "policies/site.yaml:4:3: site.model: 'legacy' does not fit this site: it is in ROLES mode "
        "(roles only, individual permissions cannot be read or written); set site.model to roles or auto"
    )


def test_a_site_without_roles_reads_only_permissions() -> None:
    def pre_roles(state: SiteState) -> None:
        state.mode = "PRE_ROLES"

    box = Sandbox(SYNTH, change=pre_roles)

    live = fetch_live(box.client, desired(keys(1, 5)))

    assert live.mode is RoleMode.PRE_ROLES
    assert live.roles == {}
    assert box.counts(PERMISSIONS) == 5
    assert box.counts(ASSIGNMENTS) == box.counts("GET /wiki/api/v2/space-roles") == 0
    with pytest.raises(PolicyError) as exc:
        fetch_live(box.client, desired(keys(1, 5), model=SiteModel.ROLES))
    assert "'roles' does not fit this site: it is in PRE_ROLES mode" in str(exc.value)


def test_space_scope_reads_only_the_requested_spaces() -> None:
    box = Sandbox(SYNTH)
    policy = desired(keys(1, 12))

    live = fetch_live(box.client, policy, spaces=["S00004"])

    assert list(live.spaces) == ["S00004"]
    assert box.counts(ASSIGNMENTS) == 1
    with pytest.raises(UsageError) as unknown:
        fetch_live(box.client, policy, spaces=["NOPE"])
    assert str(unknown.value) == "--space NOPE: no such space on the site, and the policy does not declare it"
    with pytest.raises(UsageError) as unmanaged:
        fetch_live(box.client, policy, spaces=["S00030"])
    assert str(unmanaged.value) == (
        "--space S00030: the policy does not manage this space (no spaces: entry and no defaults selector "
        "matches it); nothing was planned"
    )


def test_open_client_on_a_sandbox_needs_no_credentials(tmp_path: Path) -> None:
    site = Site(seed_state("demo"))
    with open_client(
        "sandbox:demo", read_only=True, env={}, transport=SandboxTransport(site), state_dir=tmp_path
    ) as client:
        live = fetch_live(client, load_policy(POLICIES))
    assert isinstance(live, LiveState)
    assert "ENG" in live.spaces


def test_a_wrong_token_on_the_sandbox_is_one_line_without_the_token(tmp_path: Path) -> None:
    site = Site(seed_state("demo"))
    env = {"CONFLUENCE_EMAIL": ADMIN_EMAIL, "CONFLUENCE_API_TOKEN": "wrong-token-123"}
    with (
        open_client(
            "sandbox:demo", read_only=True, env=env, transport=SandboxTransport(site), state_dir=tmp_path
        ) as client,
        pytest.raises(ApiError) as exc,
    ):
        fetch_live(client, load_policy(POLICIES))
    message = str(exc.value)
    assert message.startswith("GET /wiki/api/v2/space-role-mode: 401: Unauthorized")
    assert message.endswith("; check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN")
    assert "wrong-token-123" not in message
    assert "\n" not in message


class DropRole(httpx.BaseTransport):
    """The role list misses one role (as when it is created between the role list and the assignments)."""

    def __init__(self, inner: httpx.BaseTransport, name: str) -> None:
        self.inner, self.name = inner, name
        self.dropped = ""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path != "/wiki/api/v2/space-roles":
            return response
        body = httpx.Response(response.status_code, content=response.read()).json()
        kept = [role for role in body["results"] if role["name"] != self.name]
        self.dropped = next((r["id"] for r in body["results"] if r["name"] == self.name), self.dropped)
        return httpx.Response(response.status_code, json={**body, "results": kept})


def test_an_assignment_of_a_role_missing_from_the_role_list_fails_the_read_naming_the_space() -> None:
    wrappers: list[DropRole] = []

    def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        wrappers.append(DropRole(inner, "Admin"))
        return wrappers[0]

    box = Sandbox(SYNTH, wrap=wrap)
    with pytest.raises(ApiError) as exc:
        fetch_live(box.client, desired(["S00001"]))

    role_id = wrappers[0].dropped
    assert role_id
    assert str(exc.value) == (
        f"space S00001: role id {role_id} is not in the site's role list; the roles changed while reading; "
        "run again"
    )
