"""Issue 12 "Done when", end to end through the CLI on the persisted in-process demo site with the live
vocabulary (the default of ``sandbox:demo``; spelt ``demo+live`` here): apply converges and a second plan
shows no changes, every app account's row and every companion row untouched; duplicate rows are all
revoked; revoking a grant takes its companions; a policy naming an account the site does not have is
stopped at plan time with the file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.sandbox.live_vocabulary import APP_USERS
from reconciler.sandbox.seeds import seed_state

REPO = Path(__file__).resolve().parents[2]
APPS = {account for account, _ in APP_USERS}
SITE = "demo+live"


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(REPO / "policies", copy)
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.setenv("CONFLUENCE_URL", f"sandbox:{SITE}")
    for name in ("CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "CONFLUENCE_BEARER_TOKEN",
                 "ATLASSIAN_ADMIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return copy


def _state(policies: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((policies.parent / "sandbox" / f"{SITE}.json").read_text())
    return data


def _rows(state: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return next(s["permissions"] for s in state["spaces"] if s["key"] == key)


def _app_rows(state: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((s["key"], r["id"], f"{r['key']}/{r['target']}") for s in state["spaces"]
                  for r in s["permissions"] if r["principalId"] in APPS)


def test_apply_converges_and_leaves_every_app_row_and_companion_alone(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = seed_state(SITE).to_json()
    assert main(["plan", str(policies), "--no-progress"]) == 0
    first = capsys.readouterr().out
    assert ("Note: 3 app account(s) left alone (690 permission(s) and assignment(s) in 10 space(s)): "
            "installed apps' users are never changed unless a policy names them") in first
    assert "anonymous-users" not in first  # the access class's row sits behind its role in PUBLIC

    assert main(["apply", str(policies), "--auto-approve", "--no-progress"]) == 0
    assert "Apply complete: every change is written and verified." in capsys.readouterr().out
    assert main(["plan", str(policies), "--no-progress", "--detailed-exitcode"]) == 0
    assert "No changes: the 10 spaces in scope match the policy." in capsys.readouterr().out

    after = _state(policies)
    assert _app_rows(after) == _app_rows(fresh)  # not one app row touched, duplicates included
    ops = _rows(after, "OPS")
    contractors = next(g["id"] for g in after["groups"] if g["name"] == "contractors")
    held = {f"{r['key']}/{r['target']}": r.get("producer") for r in ops if r["principalId"] == contractors}
    ids = {f"{r['key']}/{r['target']}": r["id"] for r in ops if r["principalId"] == contractors}
    assert held == {"read/space": None, "export_content/space": ids["read/space"], "create/comment": None,
                    "create/page": None, "update/page": ids["create/page"]}  # create/page brought update/page
    public = {(r["principalId"], f"{r['key']}/{r['target']}") for r in _rows(after, "PUBLIC")
              if r["principalId"] not in APPS}
    assert public == {("anonymous-users", "read/space"), ("anonymous-users", "export_content/space")}


def test_a_permission_held_in_two_rows_is_revoked_in_both(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", str(policies), "--auto-approve", "--no-progress"]) == 0
    state = _state(policies)
    contractors = next(g["id"] for g in state["groups"] if g["name"] == "contractors")
    ops = next(s for s in state["spaces"] if s["key"] == "OPS")
    for _ in range(2):  # delete/page twice, as live sites show duplicates
        ops["permissions"].append({"id": state["nextPermissionId"], "principalType": "GROUP",
                                   "principalId": contractors, "key": "delete", "target": "page"})
        state["nextPermissionId"] += 1
    (policies.parent / "sandbox" / f"{SITE}.json").write_text(json.dumps(state))
    capsys.readouterr()

    assert main(["apply", str(policies), "--auto-approve", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "  - OPS group:contractors: revoke delete/page" in out
    assert "0 space(s) not converged" in out
    after = [r for r in _rows(_state(policies), "OPS") if r["principalId"] == contractors]
    assert sorted(f"{r['key']}/{r['target']}" for r in after) == [
        "create/comment", "create/page", "export_content/space", "read/space", "update/page"]
    assert main(["plan", str(policies), "--no-progress", "--detailed-exitcode"]) == 0


def test_an_account_id_the_site_does_not_have_is_a_plan_finding_at_its_line(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = policies / "people.yaml"
    people.write_text(people.read_text().replace("5b10ac8d82e05b22cc7d4ef6", "5b10ac8d82e05b22cc7d4eX6"))
    assert main(["apply", str(policies), "--auto-approve", "--no-progress"]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    line = next(n for n, t in enumerate(people.read_text().splitlines(), 1) if "4eX6" in t)
    assert (f"{people}:{line}: person 'bob': account '5b10ac8d82e05b22cc7d4eX6' is not on the site "
            "(GET /user/bulk does not know it") in text
