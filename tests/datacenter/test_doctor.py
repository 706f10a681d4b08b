"""`reconciler doctor` on a Data Center site (the DC sandbox, in process, real httpx)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.flows.connect import Connection
from reconciler.sandbox.datacenter import DcKnobs, DcSite, handle, seed_state
from reconciler.sandbox.transport import SandboxTransport

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dc-demo"


def _doctor(
    site: DcSite, env: dict[str, str], capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    connection = Connection(env, transport=SandboxTransport(site, handler=handle))
    code = main(["doctor", "--site", "https://wiki.acme.example/confluence", *args], connection=connection)
    return code, capsys.readouterr().out


def test_doctor_on_dc_demo_checks_every_dc_assumption(capsys: pytest.CaptureFixture[str]) -> None:
    site = DcSite(seed_state("dc-demo"))
    code, out = _doctor(site, {"CONFLUENCE_PAT": "sandbox-dc-pat-demo"}, capsys)
    assert code == 0
    paging = ("paging: a start past the end answers a record (CONFSERVER-95312); the reader stops on a page "
              "with nothing new")
    limits = ("rate limits: no X-RateLimit headers in 10 answers (rate limiting off, or this account is "
              "exempt)")
    assert out.splitlines() == [
        "reconciler doctor: https://wiki.acme.example/confluence",
        "  ok    credentials: the tool runs as Reconciler service account",
        "  ok    version: Confluence Data Center 9.2.5: REST space permissions (9.1+)",
        "  ok    GET /rest/api/space: 6 item(s) with key, name, type",
        f"  ok    {paging}",
        "  ok    permissions: 133 row(s) in 5 sampled space(s): 29 group, 104 user",
        "  ok    anonymous permissions: the flat shape",
        "  skip  JSON-RPC: not used (REST is there, or it is not allowed)",
        f"  ok    {limits}",
        "doctor: all ok (7 ok, 1 skip)",
    ]
    assert all(method == "GET" for method, _ in site.requests)


def test_a_wrong_pat_fails_the_credentials_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _doctor(DcSite(seed_state("dc-demo")), {"CONFLUENCE_PAT": "expired"}, capsys)
    assert code == 2
    assert "  fail  credentials: the site runs the tool as anonymous: a wrong or expired" in out
    assert "expired" not in out.replace("or expired", "")


def test_the_json_report_names_shapes_and_counts_only(capsys: pytest.CaptureFixture[str]) -> None:
    site = DcSite(seed_state("dc-demo"), DcKnobs(rate_limit=1000, burst=100))
    code, out = _doctor(site, {"CONFLUENCE_PAT": "sandbox-dc-pat-demo"}, capsys, "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert {c["check"]: c["status"] for c in report["checks"]}["rate limits"] == "warn"
    for word in ("alice", "engineering", "ENG", "Reconciler service account", "sandbox-dc-pat-demo"):
        assert word not in out
