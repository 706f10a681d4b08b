"""Issue 13's "done when", on the demo org (in-process sandbox, persisted in a tmp dir), end to end.

Apply creates and publishes exactly the declared controls; a second plan shows no changes; a hand edit of a
published policy is drift; a killed apply followed by a second leaves no duplicate draft; an unknown outcome
is re-read, not repeated; a stale org is refused for that rule; an Admin API that is down is one line naming
the call, and ``--skip-data-security`` leaves it out explicitly; every request body the tool sends validates
against the Admin Control schema (tests/confluence/admin_control_schema.py says where it comes from).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from reconciler.apply import ApplyResult, apply_plan
from reconciler.cli import main
from reconciler.errors import ApiError
from reconciler.flows.apply import open_policy_site
from reconciler.flows.drift import run_drift
from reconciler.flows.plan import run_plan
from reconciler.model import ALL_APPS, CONTAINER, DataSecurityPolicy, DsRule, Effect
from reconciler.plan.changes import AppPolicyChange
from reconciler.plan.data_security import compile_policies
from reconciler.plan.plan import Plan
from reconciler.policy.loader import load_policy
from reconciler.sandbox import admin_api, admin_rules
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.site import Site
from reconciler.sandbox.transport import SandboxTransport, open_sandbox_transport
from tests.confluence.admin_control_schema import POLICY_REQUEST, RESOURCE_REQUEST
from tests.kit.sites import connection


class Killed(BaseException):
    pass


class Recorder(httpx.BaseTransport):
    """The sandbox transport, recording every Admin API request; ``before``/``after`` may interrupt one."""

    def __init__(self, inner: SandboxTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str, Any]] = []
        self.before: Callable[[httpx.Request], None] = lambda _r: None
        self.after: Callable[[httpx.Request], None] = lambda _r: None

    @property
    def site(self) -> Site:
        return self.inner.site

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/admin/"):
            content = request.read()
            self.requests.append((request.method, request.url.path, json.loads(content) if content else None))
        self.before(request)
        response = self.inner.handle_request(request)
        self.after(request)
        return response


@pytest.fixture
def policies(demo_policy: Path) -> Path:
    return demo_policy  # the shared fixture's copy of the example policies


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "sandbox"


def env_for(state_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "RECONCILER_SANDBOX_DIR": str(state_dir),
        "RECONCILER_CONCURRENCY": "1",
        "RECONCILER_MAX_RETRIES": "0",
        **extra,
    }


def recorder(state_dir: Path, knobs: Knobs | None = None) -> Recorder:
    return Recorder(open_sandbox_transport("demo", state_dir, knobs))


def plan(policies: Path, state_dir: Path, transport: httpx.BaseTransport, **env: str) -> Plan:
    site = connection(env_for(state_dir, **env), transport=transport, sandbox_dir=state_dir)
    return run_plan(policies, site)[2]


def apply(
    policies: Path, state_dir: Path, transport: httpx.BaseTransport, saved: Plan | None = None
) -> ApplyResult:
    site = connection(env_for(state_dir), transport=transport, sandbox_dir=state_dir)
    session = open_policy_site(policies, site)
    try:
        live, fresh = session.plan()
        chosen = saved or fresh
        return apply_plan(
            chosen,
            session.desired,
            reader=session.reader,
            writer=session.backend.writer,
            app_writer=session.app_writer(chosen),
            live=live,
            allow_unsafe=True,
            sleep=lambda _s: None,
            verify_delays=(0.0,),
        )
    finally:
        site.close()


def data_security(plan_: Plan) -> list[str]:
    return [c.kind.name for c in plan_.changes if isinstance(c, AppPolicyChange)]


def published(site: Site) -> set[tuple[str, str, str, str, tuple[str, ...]]]:
    """(rule, level, subject, effect, space keys) of every published policy of the org."""
    out = set()
    with site.reading() as state:
        keys = {str(s.id): s.key for s in state.spaces.values()}
        for policy in state.org_policies.values():
            attributes = policy["attributes"]
            if attributes["status"] != "published":
                continue
            ((rule, body),) = attributes["rule"].items()
            spaces = tuple(sorted(keys[r["id"].rsplit("/", 1)[-1]] for r in policy[admin_rules.RESOURCES]))
            out.add(
                (
                    rule,
                    attributes["metadata"]["policyCoverageLevel"],
                    body.get("subjectId", ""),
                    body["effect"],
                    spaces,
                )
            )
    return out


def declared(policies: Path) -> set[tuple[str, str, str, str, tuple[str, ...]]]:
    return {
        (p.rule.value, p.coverage, p.subject, p.effect.value, p.spaces)
        for p in compile_policies(load_policy(policies))
    }


def drafts(site: Site) -> Counter[tuple[str, ...]]:
    with site.reading() as state:
        return Counter(
            (
                json.dumps(p["attributes"]["rule"], sort_keys=True),
                p["attributes"]["metadata"]["policyCoverageLevel"],
            )
            for p in state.org_policies.values()
            if p["attributes"]["status"] == "draft"
        )


def test_apply_publishes_exactly_the_declared_controls_and_the_next_plan_is_empty(
    policies: Path, state_dir: Path
) -> None:
    transport = recorder(state_dir)
    result = apply(policies, state_dir, transport)
    assert result.ok, [(r.change.kind.name, r.reason) for r in result.results if r.reason]
    assert published(transport.site) == declared(policies)
    assert drafts(transport.site) == Counter()
    assert data_security(plan(policies, state_dir, transport)) == []
    assert plan(policies, state_dir, transport).changes == ()
    with transport.site.reading() as state:
        assert admin_api.enforced(state, DsRule.APP_ACCESS, "HR") is Effect.BLOCK
        assert admin_api.enforced(state, DsRule.PUBLIC_LINKS, "PUBLIC") is Effect.ALLOW
        assert (
            admin_api.enforced(state, DsRule.APP_ACCESS, "ENG", "ari:cloud:ecosystem::app/5d3c6b2e-ai-writer")
            is Effect.ALLOW
        )
    # one publish per rule that changed: appAccess, attachmentDownload, publicLinks, anonymousAccess
    publishes = [body["ruleName"] for m, p, body in transport.requests if p.endswith("/publishDraftPolicies")]
    assert sorted(publishes) == ["anonymousAccess", "appAccess", "attachmentDownload", "publicLinks"]


def test_every_request_body_validates_against_the_admin_control_schema(
    policies: Path, state_dir: Path
) -> None:
    transport = recorder(state_dir)
    apply(policies, state_dir, transport)
    checked = Counter()
    for method, path, body in transport.requests:
        if method in ("POST", "PUT") and path.endswith("/resources"):
            jsonschema.validate(body, RESOURCE_REQUEST)
            checked["resource"] += 1
        elif method in ("POST", "PUT") and not path.endswith("/publishDraftPolicies"):
            jsonschema.validate(body, POLICY_REQUEST)
            checked["policy"] += 1
    assert checked == {
        "policy": 6,
        "resource": 7,
    }  # FIN, HR, LEGAL in the new app block draft; ENG, FIN, PUBLIC x2
    assert all(not p.startswith("/admin/control/v2/") for m, p, _ in transport.requests if m == "DELETE")


def test_a_hand_edit_of_a_published_policy_is_drift(policies: Path, state_dir: Path) -> None:
    transport = recorder(state_dir)
    apply(policies, state_dir, transport)
    with transport.site.writing() as state:
        [export] = [
            p for p in state.org_policies.values() if p["attributes"]["name"] == "No export of finance"
        ]
        export[admin_rules.RESOURCES] = export[admin_rules.RESOURCES][:1]  # LEGAL no longer blocked
    report = run_drift(policies, connection(env_for(state_dir), transport=transport, sandbox_dir=state_dir))
    items = [(i.kind.name, i.subject, i.detail) for i in report.items if i.kind.name == "APP_POLICY"]
    assert items == [("APP_POLICY", "export (CONTAINER)",
                      "changed: policy 'No export of finance': the org does not cover LEGAL")]
    assert data_security(plan(policies, state_dir, transport)) == ["UPDATE_APP_POLICY"]


def test_a_killed_apply_leaves_drafts_the_next_apply_adopts_without_a_duplicate(
    policies: Path, state_dir: Path
) -> None:
    transport = recorder(state_dir)

    def kill_at_publish(request: httpx.Request) -> None:
        if request.url.path.endswith("/publishDraftPolicies"):
            raise Killed

    transport.before = kill_at_publish
    with pytest.raises(Killed):
        apply(policies, state_dir, transport)
    left = drafts(transport.site)
    assert (
        sum(left.values()) == 3
    )  # appAccess, the first rule: the widened block, the AI writer's ORG and CONTAINER
    after_kill = plan(policies, state_dir, transport)
    assert data_security(after_kill) == ["CREATE_APP_POLICY"] * 5 + ["UPDATE_APP_POLICY"]
    ai = "app_access for ari:cloud:ecosystem::app/5d3c6b2e-ai-writer"
    assert [n.split(" (id ")[0] for n in after_kill.notes if n.startswith("data security: a draft")] == [
        "data security: a draft of app_access (CONTAINER) is on the org",
        f"data security: a draft of {ai} (CONTAINER) is on the org",
        f"data security: a draft of {ai} (ORG) is on the org",
    ]

    transport.before = lambda _r: None
    transport.requests.clear()
    result = apply(policies, state_dir, transport)
    assert result.ok
    assert drafts(transport.site) == Counter()
    assert published(transport.site) == declared(policies)
    creates = [
        body["data"]["attributes"]["rule"]
        for m, p, body in transport.requests
        if m == "POST" and p.endswith("/policies")
    ]
    assert {
        "appAccess": {"effect": "block", "subjectId": "ari:cloud:ecosystem::app/5d3c6b2e-ai-writer"}
    } not in creates  # the org draft of the killed run was adopted, not made twice
    with transport.site.reading() as state:
        keys = Counter(
            (
                json.dumps(p["attributes"]["rule"], sort_keys=True),
                p["attributes"]["metadata"]["policyCoverageLevel"],
            )
            for p in state.org_policies.values()
            if p["attributes"]["status"] == "published"
        )
    assert max(keys.values()) == 1


def test_a_create_whose_answer_is_lost_is_re_read_not_repeated(policies: Path, state_dir: Path) -> None:
    transport = recorder(state_dir)
    lost: list[str] = []

    def drop_first_create(request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path.endswith("/policies") and not lost:
            lost.append(request.url.path)
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )

    transport.after = drop_first_create
    result = apply(policies, state_dir, transport)
    assert lost
    assert result.ok
    assert published(transport.site) == declared(policies)
    assert drafts(transport.site) == Counter()


def test_an_org_changed_since_the_plan_is_refused_for_that_rule_only(policies: Path, state_dir: Path) -> None:
    transport = recorder(state_dir)
    saved = plan(policies, state_dir, transport)
    with transport.site.writing() as state:  # an admin widens the app block in admin.atlassian.com
        admin_api.add_policy(
            state,
            DataSecurityPolicy(
                DsRule.APP_ACCESS,
                Effect.BLOCK,
                CONTAINER,
                ALL_APPS,
                ("FIN", "SALES"),
                "Confidential spaces v2",
            ),
        )
        for policy in state.org_policies.values():
            if policy["attributes"]["name"] == "Confidential spaces":
                policy["attributes"]["status"] = "deleted"
    result = apply(policies, state_dir, transport, saved)
    failed = {r.reason for r in result.results if r.status.name == "FAILED"}
    assert failed == {("data security rule appAccess changed on the org since the plan was made; nothing "
                       "of it was written; run `reconciler plan` again")}
    refused = [r.change for r in result.results if r.status.name == "FAILED"]
    assert [c.policy.rule.value for c in refused if isinstance(c, AppPolicyChange)] == ["appAccess"] * 3
    done = {r.change.kind.name for r in result.results if r.status.name == "DONE"}
    assert "CREATE_APP_POLICY" in done  # the other rules went ahead


@pytest.mark.parametrize("status", [503, 404])
def test_an_admin_api_that_is_down_is_one_line_naming_the_call_never_no_policies(
    policies: Path,
    state_dir: Path,
    status: int,
) -> None:
    transport = recorder(state_dir, Knobs(admin_api_down=status))
    with pytest.raises(ApiError) as caught:
        plan(policies, state_dir, transport)
    org = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    reason = "Service Unavailable" if status == 503 else "Not Found"
    assert str(caught.value) == (
        f"GET /admin/control/v2/orgs/{org}/policies: {status}: {reason}: This API is deprecated and "
        "temporarily disabled; data security cannot be read: the Admin API is down or disabled (its policy "
        "operations are "
        "deprecated upstream and may be temporarily disabled); run again later, or leave data security out "
        "with --skip-data-security"
    )
    skipped = plan(policies, state_dir, transport, RECONCILER_SKIP_DATA_SECURITY="1")
    assert data_security(skipped) == []
    assert (
        "data security not planned: left out by --skip-data-security (RECONCILER_SKIP_DATA_SECURITY)"
        in skipped.notes
    )


def test_the_cli_flag_leaves_data_security_out_and_the_plan_says_so(
    policies: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in env_for(state_dir).items():
        monkeypatch.setenv(name, value)
    assert main(["plan", str(policies), "--skip-data-security", "--no-progress", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["notes"] == [
        ("3 app account(s) left alone (690 permission(s) and assignment(s) in 10 space(s)): installed apps' "
         "users are never changed unless a policy names them"),
        "data security not planned: left out by --skip-data-security (RECONCILER_SKIP_DATA_SECURITY)",
    ]
    assert not [c for c in out["changes"] if c["kind"].endswith("app_policy")]
