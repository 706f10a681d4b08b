"""Issue 6 "Done when", end to end through the CLI on the persisted in-process demo site:

after an apply, an assignment added by hand in an exact space makes `reconciler drift` exit 2 and name
it; acknowledging it in drift.ignore makes it exit 0; an import of the demo site validates and plans to
zero changes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.confluence.client import ConfluenceClient
from reconciler.flows.drift import run_drift
from reconciler.plan.diff import build_plan
from reconciler.policy.loader import load_policy
from tests.kit.sites import connection, fetch_live
from tests.kit.sites import site_client as open_client

REPO = Path(__file__).resolve().parents[2]
ACK = """
drift:
  ignore:
    - space: SANDBOX
      principal: group:contractors
      reason: "temporary access during the wiki migration (OPS-1234)"
      until: 2027-06-30
    - space: ENG
      principal: group:contractors
      reason: "pairing with the vendor until the launch"
      until: 2099-12-31
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A copy of policies/ and a fresh sandbox state directory the CLI uses."""
    policies, state = tmp_path / "policies", tmp_path / "sandbox"
    shutil.copytree(REPO / "policies", policies)
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(state))
    for name in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN",
                 "ATLASSIAN_ADMIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return policies, state


def assign_by_hand(state: Path, space_key: str, group: str, role: str) -> None:
    with open_client("sandbox:demo", read_only=False, env={}, state_dir=state) as client:
        space_id = _one(client, "/wiki/api/v2/spaces", {"keys": space_key})["id"]
        group_id = next(g["id"] for g in client.paginate_v1("/wiki/rest/api/group") if g["name"] == group)
        role_id = next(r["id"] for r in client.paginate("/wiki/api/v2/space-roles") if r["name"] == role)
        body = [{"principal": {"principalType": "GROUP", "principalId": group_id}, "roleId": role_id}]
        client.post_json(f"/wiki/api/v2/spaces/{space_id}/role-assignments", body)


def _one(client: ConfluenceClient, path: str, params: dict[str, str]) -> dict[str, str]:
    (item,) = list(client.paginate(path, params))
    return item


def test_hand_made_assignment_is_drift_until_acknowledged(site: tuple[Path, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    policies, state = site
    assert main(["apply", str(policies), "--auto-approve", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["drift", str(policies), "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("No drift: 10 managed spaces match the policy; ")

    assign_by_hand(state, "ENG", "contractors", "Viewer")
    assert main(["drift", str(policies), "--format", "json", "--no-progress"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert [(i["kind"], i["space"], i["principal"], i["live"]) for i in report["items"] if i["counts"]] == [
        ("added", "ENG", "group:contractors", "Viewer"),
    ]
    drifted = next(i for i in report["items"] if i["counts"])
    assert drifted["adopt"]["yaml"] == "group:contractors: Viewer"
    assert drifted["adopt"]["file"] == str(policies / "spaces" / "ENG.yaml")
    assert drifted["revert"]["command"] == f"reconciler apply {policies}"

    app_access = policies / "data-security.yaml"
    text = app_access.read_text(encoding="utf-8")
    app_access.write_text(text[: text.index("drift:")] + ACK.lstrip("\n"), encoding="utf-8")
    assert main(["drift", str(policies), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No drift: 10 managed spaces match the policy; 1 acknowledged; ")
    assert "acknowledged until 2099-12-31: pairing with the vendor until the launch" in out

    report_after = run_drift(policies, connection({}, sandbox_dir=state))
    assert [i.kind.slug for i in report_after.acknowledged] == ["added"]


def test_import_of_the_demo_site_validates_and_plans_to_zero(site: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    _, state = site
    out = tmp_path / "imported"
    assert main(["import", "--out", str(out), "--site", "sandbox:demo", "--no-progress"]) == 0
    assert main(["validate", str(out)]) == 0
    desired = load_policy(out)
    with open_client(desired.site.url, read_only=True, env={}, state_dir=state) as client:
        live = fetch_live(client, desired)
    assert build_plan(desired, live).changes == ()
    assert main(["plan", str(out), "--detailed-exitcode", "--no-progress"]) == 0
