"""Issue 15's "done when", against `reconciler sandbox serve --seed dc-demo` over real HTTP: import,
validate and plan show no changes; an out-of-band grant makes drift exit 2 and names it; apply of a changed
policy converges and a second plan is empty; only DC paths are called; the same with the REST routes
switched off and JSON-RPC allowed; a wrong PAT is refused in one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.cli import main
from reconciler.sandbox.spawn import spawned_server

pytestmark = pytest.mark.e2e

ADMIN = ("[administer/space, create/attachment, create/blogpost, create/comment, create/page, "
         "delete/attachment, delete/blogpost, delete/comment, delete/page, delete_own/space, export/space, "
         "read/space, restrict/space]")
CHANGED_ENG = f"""\
spaces:
  ENG:
    authority: exact
    grants:
      group:engineering: [read/space, create/comment]
      user:alice: {ADMIN}
      user:svc-reconciler: {ADMIN}
    assign:
      user:bob: Collaborator
      group:ops/oncall: none
"""


@pytest.fixture
def dc_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith(("CONFLUENCE_", "ATLASSIAN_", "RECONCILER_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _serve(*flags: str) -> Iterator[dict[str, str]]:
    with spawned_server("--seed", "dc-demo", *flags) as printed:
        yield printed


def _requests(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    log = httpx.get(f"{parts.scheme}://{parts.netloc}/_sandbox/requests").json()["requests"]
    return [(method, path) for method, path in log]


def _out_of_band_grant(url: str, pat: str, *, rpc: bool) -> None:
    headers = {"Authorization": f"Bearer {pat}"}
    if rpc:
        body = {"jsonrpc": "2.0", "method": "addPermissionsToSpace", "params": [["VIEWSPACE", "EXPORTSPACE"],
                "erin", "FIN"], "id": 1}
        answer = httpx.post(f"{url}/rpc/json-rpc/confluenceservice-v2", json=body,
                            headers={**headers, "X-Atlassian-Token": "no-check"})
        assert answer.json()["result"] is True
        return
    key = httpx.get(f"{url}/rest/api/user", params={"username": "erin"}, headers=headers).json()["userKey"]
    ops = [{"operationKey": "read", "targetType": "space"}, {"operationKey": "export", "targetType": "space"}]
    assert httpx.put(f"{url}/rest/api/space/FIN/permissions/user/{key}/grant", json=ops,
                     headers=headers).status_code == 204


def _scenario(printed: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str], *, rpc: bool) -> list[tuple[str, str]]:
    url, pat = printed["CONFLUENCE_URL"], printed["CONFLUENCE_PAT"]
    monkeypatch.setenv("CONFLUENCE_URL", url)
    monkeypatch.setenv("CONFLUENCE_PAT", pat)
    policy = tmp_path / "policy"
    jsonrpc = ["--jsonrpc", "allow"] if rpc else []
    assert main(["import", "--out", str(policy), "--no-progress", *jsonrpc]) == 0
    assert main(["validate", str(policy)]) == 0
    capsys.readouterr()
    assert main(["plan", str(policy), "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.startswith("No changes: the 5 spaces in scope match the policy.")

    _out_of_band_grant(url, pat, rpc=rpc)
    assert main(["drift", str(policy)]) == 2
    drift = capsys.readouterr().out
    assert "FIN\n  ? user:erin: [export/space, read/space] (unknown principal)" in drift

    (policy / "spaces" / "ENG.yaml").write_text(CHANGED_ENG, encoding="utf-8")
    assert main(["validate", str(policy)]) == 0
    assert main(["apply", str(policy), "--auto-approve"]) == 0
    applied = capsys.readouterr().out
    assert "Apply complete: every change is written and verified." in applied
    assert "ENG user:bob: grant create/page" in applied
    assert "FIN user:erin: revoke export/space" in applied
    assert main(["plan", str(policy), "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.startswith("No changes")
    return _requests(url)


def test_the_whole_loop_over_http_calls_only_dc_rest_paths(
    dc_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for printed in _serve():
        calls = _scenario(printed, tmp_path, monkeypatch, capsys, rpc=False)
    assert calls
    assert all(path.startswith("/confluence/rest/api/") for _, path in calls)
    posts = sorted(path.removeprefix("/confluence/rest/api/space/") for m, path in calls if m == "POST")
    assert posts == ["ENG/permissions", "ENG/permissions", "FIN/permissions"]  # additions, then removals
    assert not any("oncall" in path for _, path in calls)


def test_the_whole_loop_with_rest_switched_off_uses_json_rpc_only(
    dc_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for printed in _serve("--dc-version", "8.9.3"):
        calls = _scenario(printed, tmp_path, monkeypatch, capsys, rpc=True)
    permission_paths = [path for _, path in calls if "/permissions" in path]
    assert permission_paths == []
    assert all(path.startswith(("/confluence/rest/api/", "/confluence/rpc/json-rpc/")) for _, path in calls)
    assert any(path == "/confluence/rpc/json-rpc/confluenceservice-v2" for _, path in calls)


def test_a_wrong_pat_is_refused_in_one_line(
    dc_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    for printed in _serve():
        monkeypatch.setenv("CONFLUENCE_URL", printed["CONFLUENCE_URL"])
        monkeypatch.setenv("CONFLUENCE_PAT", "an-expired-token")
        code = main(["plan", str(root / "examples" / "dc-demo")])
        calls = _requests(printed["CONFLUENCE_URL"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err == (
        "error: refusing to run as anonymous: Confluence Data Center accepted the credentials without a user "
        "(a wrong or expired CONFLUENCE_PAT is not refused, CONFSERVER-98199); check CONFLUENCE_PAT (or "
        "CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD)\n")
    assert calls == [("GET", "/confluence/rest/api/user/current")]
    assert "an-expired-token" not in captured.err
