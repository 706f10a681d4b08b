"""`reconciler doctor` end to end: against `sandbox serve` (real HTTP) it prints all ok and exits 0; a
deliberately changed answer shape is flagged and exits 2; the JSON report holds shapes and counts only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, seed_state
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.site import Site

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    server = start_server(Site(seed_state("demo")))
    monkeypatch.setenv("CONFLUENCE_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("CONFLUENCE_API_TOKEN", admin_token("demo"))
    for name in ("CONFLUENCE_URL", "CONFLUENCE_BEARER_TOKEN", "ATLASSIAN_ADMIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.e2e
def test_doctor_against_sandbox_serve_prints_all_ok(
    served: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--site", served.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"reconciler doctor: {served.url}"
    assert out[-1] == "doctor: all ok (11 ok, 1 skip)"
    assert [line.split()[0] for line in out[1:-1]] == ["ok"] * 11 + ["skip"]
    assert out[-2] == ("  skip  data security: not checked: no organisation id (--org-id or "
                       "data_security.org_id)")
    assert served.site.counters.keys() <= {k for k in served.site.counters if k.startswith("GET ")}


@pytest.mark.e2e
def test_doctor_flags_a_changed_shape_and_exits_2(
    served: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    served.site.configure(Knobs(reshape=frozenset({"role-assignments"})))
    assert main(["doctor", "--site", served.url]) == 2
    out = capsys.readouterr().out
    assert ("  fail  GET /spaces/{id}/role-assignments: the answer differs from what the tool reads: "
            "principal.principalType (string) missing; principal.principalId (string) missing\n") in out
    assert out.endswith("doctor: differences found (10 ok, 1 fail, 1 skip)\n")


@pytest.mark.e2e
def test_doctor_json_is_shapes_and_counts_without_names_or_ids(
    served: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--site", served.url, "--format", "json"]) == 0
    text = capsys.readouterr().out
    report = json.loads(text)
    assert report["ok"] is True
    assert [c["check"] for c in report["checks"]][:3] == ["credentials", "role mode", "catalogue"]
    state = served.site.state
    people = {u.account_id for u in state.users.values()} | {u.display_name for u in state.users.values()}
    assert [word for word in people | {admin_token("demo"), ADMIN_EMAIL, served.url} if word in text] == []


def test_doctor_of_the_policy_site_checks_the_orgs_data_security_policies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sandbox"))
    for name in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN", "ATLASSIAN_ADMIN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["doctor", "policies"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("reconciler doctor: sandbox:demo\n")
    line = next(line for line in out.splitlines() if "data security:" in line)
    assert line.startswith("  ok    data security: ")
    assert "understood" in line


def test_doctor_without_a_policy_or_a_site_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONFLUENCE_URL", raising=False)
    assert main(["doctor"]) == 1
    assert capsys.readouterr().err == (
        "error: policy directory 'policies' not found; name the site with --site URL (or CONFLUENCE_URL)\n")
