"""End to end against the sandbox: plan, apply and drift of app access policies (demo site and a test org)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.apply import apply_plan
from reconciler.apply.pipeline import open_apply
from reconciler.cli import main
from reconciler.confluence import dsp_wire
from reconciler.confluence.admin import fetch_app_policies, open_admin_writer
from reconciler.drift.findings import DriftKind
from reconciler.drift.run import run_drift
from reconciler.model import AppBlockMode, AppPolicy
from reconciler.pipeline import run_plan
from reconciler.plan.app_access import diff_app_policies
from reconciler.plan.changes import ChangeKind
from reconciler.sandbox.server import start_server
from reconciler.sandbox.transport import SandboxTransport
from tests.app_access import builders
from tests.app_access.sandbox_helpers import KEY, make_site

DEMO = Path(__file__).resolve().parents[2] / "policies"
APP_KINDS = {ChangeKind.CREATE_APP_POLICY, ChangeKind.UPDATE_APP_POLICY, ChangeKind.DELETE_APP_POLICY}


def demo_with_docs_blocked(tmp_path: Path) -> Path:
    policy = tmp_path / "policies"
    shutil.copytree(DEMO, policy)
    docs = policy / "spaces" / "DOCS.yaml"
    docs.write_text(docs.read_text(encoding="utf-8") + "    apps: blocked\n", encoding="utf-8")
    return policy


def plan_and_apply(policy: Path, env: dict[str, str], state_dir: Path) -> None:
    desired, live, plan = run_plan(policy, env=env, state_dir=state_dir)
    session = open_apply(policy, env=env)
    ids = {key: space.info.id for key, space in live.spaces.items()}
    app_writer = open_admin_writer(desired, ids, env, state_dir=state_dir)
    try:
        result = apply_plan(plan, desired, reader=session.reader, writer=session.writer,
                            app_writer=app_writer, live=live, sleep=lambda _s: None, verify_delays=(0.0, 0.0))
    finally:
        session.close()
        app_writer.close()
    assert [r.change.kind for r in result.results if r.status.name != "DONE"] == []


def test_space_moved_to_apps_blocked_is_in_the_org_policy_after_apply(tmp_path: Path) -> None:
    policy = demo_with_docs_blocked(tmp_path)
    env = {"RECONCILER_SANDBOX_DIR": str(tmp_path / "sandbox")}
    _, _, plan = run_plan(policy, env=env, state_dir=tmp_path / "sandbox")
    app_changes = [(c.kind.name, c.policy.name, c.reason) for c in plan.changes  # type: ignore[union-attr]
                   if c.kind in APP_KINDS]
    assert app_changes == [
        ("CREATE_APP_POLICY", "No AI assistants in sales", "blocks apps in SALES"),
        ("UPDATE_APP_POLICY", "Confidential spaces", "blocks apps in DOCS, ENG, HR, LEGAL"),
    ]
    plan_and_apply(policy, env, tmp_path / "sandbox")
    _desired, live, again = run_plan(policy, env=env, state_dir=tmp_path / "sandbox")
    assert [c for c in again.changes if c.kind in APP_KINDS] == []
    assert live.app_policies is not None
    assert {p.name: p.spaces for p in live.app_policies} == {
        "Confidential spaces": ("DOCS", "ENG", "FIN", "HR", "LEGAL"),
        "No AI assistants in sales": ("SALES",),
    }


def test_drift_reports_an_app_policy_changed_by_hand(tmp_path: Path) -> None:
    policy = demo_with_docs_blocked(tmp_path)
    sandbox = tmp_path / "sandbox"
    env = {"RECONCILER_SANDBOX_DIR": str(sandbox)}
    plan_and_apply(policy, env, sandbox)
    desired, live, _ = run_plan(policy, env=env, state_dir=sandbox)
    [confidential] = [p for p in live.app_policies or () if p.name == "Confidential spaces"]
    by_hand = AppPolicy(confidential.name, AppBlockMode.ONLY, ("com.example.bot",),
                        ("DOCS", "ENG", "FIN", "LEGAL"), id=confidential.id)
    admin = open_admin_writer(desired, {}, env, state_dir=sandbox)
    admin.update(by_hand, confidential)
    admin.close()
    report = run_drift(policy, env=env, state_dir=sandbox)
    items = [(i.kind, i.subject, i.detail) for i in report.items if i.kind is DriftKind.APP_POLICY]
    assert items == [(
        DriftKind.APP_POLICY, "Confidential spaces",
        ("changed: does not cover HR; rule is 'block only com.example.bot', "
        "policy says 'block all apps'"),
    )]
    assert report.has_drift


def converge(site_spaces: list[str], blocked: list[str], env: dict[str, str], transport: object,
             site_url: str) -> list[ChangeKind]:
    """Plan the rule against the org, apply it with the writer, and return the kinds applied."""
    state = builders.desired([builders.rule("Confidential spaces", site_spaces)], blocked=blocked)
    live_policies = fetch_app_policies(site_url, state, {}, env, transport=transport)  # type: ignore[arg-type]
    changes = diff_app_policies(state, builders.live(live_policies))
    admin = open_admin_writer(state, {}, env, site_url=site_url, transport=transport)  # type: ignore[arg-type]
    for change in sorted(changes, key=lambda c: c.sort_key):
        admin.apply_change(change)
    admin.close()
    return sorted((c.kind for c in changes), key=lambda kind: kind.rank)


def test_sixteenth_blocked_space_produces_a_second_org_policy_without_reshuffling() -> None:
    site = make_site(20)
    env = {"ATLASSIAN_ADMIN_API_KEY": KEY, "CONFLUENCE_EMAIL": "svc@acme.example",
           "CONFLUENCE_API_TOKEN": "tok"}
    transport, url = SandboxTransport(site), "https://acme.atlassian.net"
    fifteen = builders.keys(16)[1:]  # S02..S16
    assert converge(fifteen, [], env, transport, url) == [ChangeKind.CREATE_APP_POLICY]
    assert converge(fifteen, ["S17"], env, transport, url) == [ChangeKind.CREATE_APP_POLICY,
                                                              ChangeKind.UPDATE_APP_POLICY]
    # S01 sorts first: it joins the part with room, nothing else moves
    assert converge(fifteen, ["S17", "S01"], env, transport, url) == [ChangeKind.UPDATE_APP_POLICY]
    parts = {p["attributes"]["name"]: [r["id"].rsplit("/", 1)[1] for r in p["attributes"]["resources"]]
             for p in site.state.org_policies.values()}
    assert parts == {"Confidential spaces (1/2)": [str(1000 + n) for n in range(2, 17)],
                     "Confidential spaces (2/2)": ["1001", "1017"]}
    assert converge(fifteen, ["S17", "S01"], env, transport, url) == []


@pytest.mark.e2e
def test_admin_api_over_http_from_a_loopback_server() -> None:
    site = make_site(5)
    server = start_server(site)
    try:
        env = {"CONFLUENCE_URL": server.url, "ATLASSIAN_ADMIN_API_KEY": KEY,
               "CONFLUENCE_EMAIL": "svc@acme.example", "CONFLUENCE_API_TOKEN": "tok"}
        assert converge(["S01", "S02"], [], env, None, "sandbox:unused") == [ChangeKind.CREATE_APP_POLICY]
        assert converge(["S01", "S02"], [], env, None, "sandbox:unused") == []
    finally:
        server.stop()
    [stored] = site.state.org_policies.values()
    assert stored["attributes"]["name"] == "Confidential spaces"


def test_the_commands_apply_the_app_section_and_drift_sees_a_hand_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    policy = demo_with_docs_blocked(tmp_path)
    sandbox = tmp_path / "sandbox"
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(sandbox))
    for name in ("CONFLUENCE_URL", "ATLASSIAN_ADMIN_API_KEY", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["apply", str(policy), "--auto-approve"]) == 0
    assert main(["plan", str(policy), "--detailed-exitcode"]) == 0
    assert main(["drift", str(policy)]) == 0
    env = {"RECONCILER_SANDBOX_DIR": str(sandbox)}
    desired, live, _ = run_plan(policy, env=env, state_dir=sandbox)
    [confidential] = [p for p in live.app_policies or () if p.name == "Confidential spaces"]
    assert confidential.spaces == ("DOCS", "ENG", "FIN", "HR", "LEGAL")
    admin = open_admin_writer(desired, {}, env, state_dir=sandbox)
    by_hand = AppPolicy(confidential.name, AppBlockMode.ALL, (), ("FIN",), id=confidential.id)
    admin.update(by_hand, confidential)
    admin.close()
    capsys.readouterr()
    assert main(["drift", str(policy)]) == 2
    assert "Confidential spaces" in capsys.readouterr().out


def test_apply_refuses_an_app_policy_an_org_admin_edited_after_the_plan_and_the_rest_is_applied(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policies"
    shutil.copytree(DEMO, policy)
    sandbox = tmp_path / "sandbox"
    env = {"RECONCILER_SANDBOX_DIR": str(sandbox)}
    desired, live, plan = run_plan(policy, env=env, state_dir=sandbox)
    [confidential] = [p for p in live.app_policies or () if p.name == "Confidential spaces"]
    assert confidential.id is not None
    admin = open_admin_writer(desired, {}, env, state_dir=sandbox)
    edited = replace(confidential, spaces=(*confidential.spaces, "SALES"))  # an org admin adds SALES
    admin.api.update(confidential.id, dsp_wire.to_wire(
        edited, admin.lookup.cloud_id(), admin.lookup.ids_for(edited.spaces)))
    session = open_apply(policy, env=env)
    try:
        result = apply_plan(plan, desired, reader=session.reader, writer=session.writer, app_writer=admin,
                            live=live, sleep=lambda _s: None, verify_delays=(0.0,))
    finally:
        session.close()
        admin.close()
    assert [(r.change.kind.name, r.reason) for r in result.failed] == [
        ("UPDATE_APP_POLICY",
         "app policy 'Confidential spaces' changed since the plan was made; run `reconciler plan` again"),
    ]
    assert result.skipped == ()
    assert len(result.done) == len(plan.changes) - 1
    _desired, after, _plan = run_plan(policy, env=env, state_dir=sandbox)
    assert {p.name: p.spaces for p in after.app_policies or ()} == {
        "Confidential spaces": ("FIN", "SALES"),  # the edit stands
        "No AI assistants in sales": ("SALES",),
    }
