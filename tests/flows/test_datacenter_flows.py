"""Plan and apply on a Data Center sandbox through the composition root (in process, real httpx)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.errors import PolicyError, UsageError
from reconciler.flows.apply import Approval, run_apply
from reconciler.flows.connect import Connection
from reconciler.flows.plan import run_plan
from reconciler.model import Platform
from reconciler.plan.changes import ChangeKind, GrantChange
from reconciler.sandbox.datacenter import DcSite, handle
from reconciler.sandbox.datacenter.seeds import seed_state
from reconciler.sandbox.transport import SandboxTransport

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dc-demo"


def _policy(tmp_path: Path, **files: str) -> Path:
    policy = tmp_path / "policy"
    shutil.copytree(EXAMPLE, policy)
    for name, text in files.items():
        (policy / "spaces" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return policy


def test_a_dc_policy_opens_one_dc_client_and_plans_no_change(tmp_path: Path) -> None:
    site = Connection({}, sandbox_dir=tmp_path / "sandbox")
    desired, live, plan = run_plan(EXAMPLE, site)
    assert desired.site.platform is Platform.DATACENTER
    assert site.clients_opened == ["site"]
    assert plan.changes == ()
    assert live.roles == {}
    assert set(live.spaces) == {"DOCS", "ENG", "FIN", "HR", "PUBLIC"}


def test_plan_lines_say_which_role_they_were_compiled_from(tmp_path: Path) -> None:
    eng = ("spaces:\n  ENG:\n    assign:\n      user:alice: Admin\n      group:engineering: Manager\n"
           "    grants:\n      group:ops/oncall: [read/space]\n")
    _, _, plan = run_plan(_policy(tmp_path, ENG=eng), Connection({}, sandbox_dir=tmp_path / "sandbox"))
    grants = [c for c in plan.changes if isinstance(c, GrantChange)]
    assert {(c.kind, c.permission, c.reason) for c in grants} == {
        (ChangeKind.GRANT, p, "compiled from role Manager")
        for p in ("delete/page", "delete/blogpost", "delete/comment", "delete/attachment", "export/space",
                  "restrict/space")
    }  # Manager's archive/page has no DC equivalent and is left out


def test_the_last_admin_other_than_the_actor_is_protected_by_the_tool(tmp_path: Path) -> None:
    eng = ("spaces:\n  ENG:\n    assign:\n      user:alice: Viewer\n      group:engineering: Collaborator\n"
           "    grants:\n      group:ops/oncall: [read/space]\n")
    site = Connection({}, sandbox_dir=tmp_path / "sandbox")
    with pytest.raises(PolicyError) as caught:  # validate and plan count admins alike (docs/safety.md)
        run_plan(_policy(tmp_path, ENG=eng), site)
    assert [p.message for p in caught.value.errors] == [
        ("space 'ENG' has 0 admin(s) besides the actor under exact authority, fewer than "
        "safety.min_admins_per_space (1)")]


def test_exact_spaces_are_written_as_whole_sets_additive_ones_by_grant_and_revoke(tmp_path: Path) -> None:
    dc = DcSite(seed_state("dc-demo"))
    eng = ("spaces:\n  ENG:\n    assign:\n      user:alice: Admin\n      user:bob: Viewer\n"
           "      group:engineering: Viewer\n    grants:\n      group:ops/oncall: none\n")
    fin = ("spaces:\n  FIN:\n    authority: additive\n    assign:\n      user:carol: Admin\n"
           "      user:erin: Viewer\n      group:finance: Collaborator\n")
    policy = _policy(tmp_path, ENG=eng, FIN=fin)
    site = Connection({}, transport=SandboxTransport(dc, handler=handle), sandbox_dir=tmp_path / "sandbox")
    result = run_apply(policy, site, show=lambda _p: None, approve=lambda _p: Approval.GIVEN)
    assert result is not None
    assert result.ok
    writes = {k: v for k, v in dc.counters.items() if not k.startswith("GET")}
    assert writes == {
        "POST /rest/api/space/{spaceKey}/permissions": 2,  # ENG: additions, then removals
        "PUT /rest/api/space/{spaceKey}/permissions/user/{userKey}/grant": 2,  # FIN (additive): erin
    }
    _, _, again = run_plan(policy, Connection({}, transport=SandboxTransport(dc, handler=handle)))
    assert again.changes == ()


def test_a_cloud_sandbox_cannot_pass_for_a_dc_site(tmp_path: Path) -> None:
    site = Connection({"CONFLUENCE_URL": "sandbox:demo"}, sandbox_dir=tmp_path / "sandbox")
    with pytest.raises(UsageError, match=r"^sandbox:demo is a Confluence Cloud sandbox site, but the"):
        run_plan(EXAMPLE, site)


def test_a_policy_read_as_cloud_is_stopped_when_the_site_answers_like_dc(tmp_path: Path) -> None:
    dc = DcSite(seed_state("dc-demo"))
    dc.state.context_path = ""
    policy = tmp_path / "cloud"
    policy.mkdir()
    (policy / "site.yaml").write_text(
        "version: 1\nsite:\n  url: https://wiki.acme.example\n  actor: bot\n  default_authority: exact\n"
        "people:\n  bot: 5b10ac8d82e05b22cc7d4e00\n", encoding="utf-8")
    site = Connection({}, transport=SandboxTransport(dc, handler=handle))
    with pytest.raises(UsageError) as caught:
        run_plan(policy, site)
    assert str(caught.value) == (
        "https://wiki.acme.example answers like Confluence Data Center (version hidden without a login) "
        "(GET /rest/api/server-information) but the policy is read as Cloud: set site.platform: datacenter "
        "(or site.platform: cloud to keep Cloud)")
    assert dc.requests == [("GET", "/rest/api/server-information")]


def test_a_dc_sandbox_cannot_pass_for_a_cloud_site(tmp_path: Path) -> None:
    policies = Path(__file__).resolve().parents[2] / "policies"
    site = Connection({"CONFLUENCE_URL": "sandbox:dc-demo"}, sandbox_dir=tmp_path / "sandbox")
    with pytest.raises(UsageError) as caught:
        run_plan(policies, site)
    assert str(caught.value) == ("sandbox:dc-demo is a Confluence Data Center sandbox site, but the policy "
                                 "is for Cloud: set site.platform: datacenter")
