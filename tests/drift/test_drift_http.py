"""`reconciler drift` and `reconciler import` over real HTTP against a sandbox server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.site import Site

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    state = seed_state("demo")
    admin = state.users[SVC_ACCOUNT_ID]
    server = start_server(Site(state))
    monkeypatch.setenv("CONFLUENCE_URL", server.url)
    monkeypatch.setenv("CONFLUENCE_EMAIL", admin.email)
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", admin.api_token or "")
    monkeypatch.delenv("CONFLUENCE_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("ATLASSIAN_ADMIN_API_KEY", raising=False)
    try:
        yield server
    finally:
        server.stop()


def test_drift_over_http_reads_only_and_says_data_security_was_not_checked(
    served: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", str(REPO / "policies"), "--format", "json", "--no-progress"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["notes"] == ["data security not checked: set ATLASSIAN_ADMIN_API_KEY to include it"]
    assert {i["kind"] for i in report["items"]} == {"added", "removed", "role_changed", "role_definition"}
    assert {key.split(" ", 1)[0] for key in served.site.counters} == {"GET"}


def test_import_over_http_plans_to_zero_changes(served: RunningServer, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    assert main(["import", "--out", str(out), "--no-progress"]) == 0
    assert f"  url: {served.url}\n" in (out / "site.yaml").read_text(encoding="utf-8")
    assert main(["validate", str(out)]) == 0
    assert main(["plan", str(out), "--detailed-exitcode", "--no-progress"]) == 0
    assert {key.split(" ", 1)[0] for key in served.site.counters} == {"GET"}
