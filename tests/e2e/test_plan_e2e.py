"""End to end: `reconciler sandbox serve` on loopback, `reconciler plan policies/` over real HTTP.

Checks the demo plan's changes exactly, that a plan sends nothing but GETs, that a storm of 429s and 503s
yields the same plan, that a failed read of one space yields no plan and names the space, and that bad
credentials, an unreachable site and a missing variable each give one line, exit 1, no traceback, no token.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from reconciler.sandbox import server as sandbox_server
from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.site import Site
from reconciler.sandbox.spawn import spawned_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
POLICIES = str(ROOT / "policies")

# The demo site against policies/, as `make demo` shows it (people by account id, roles by name).
EXPECTED = [
    "create_role Release Manager",
    "update_role Legal Reviewer",
    "grant OPS group:contractors create/comment",
    "grant OPS group:contractors create/page",
    "assign DOCS user:5b10a2844c20165700ede21b ->Viewer",
    "assign ENG user:5b10ac8d82e05b22cc7d4ef5 ->Manager",
    "assign ENG user:5b10ac8d82e05b22cc7d4ef7 ->Release Manager",
    "reassign ENG group:engineering Viewer->Collaborator",
    "create_app_policy anonymousAccess CONTAINER allow PUBLIC",
    "create_app_policy appAccess ORG block ",
    "create_app_policy appAccess CONTAINER allow ENG",
    "create_app_policy attachmentDownload CONTAINER block FIN",
    "create_app_policy publicLinks CONTAINER allow PUBLIC",
    "update_app_policy appAccess CONTAINER block FIN,HR,LEGAL",
    "unassign ENG user:5b10ac8d82e05b22cc7d4ef6 Collaborator-> (not in policy; space is exact)",
    "delete_role Old Auditor (set to none in policy)",
]


def describe(change: Mapping[str, Any]) -> str:
    kind = change["kind"]
    named = (
        change.get("role_def")
        or change.get("old_role_def")
        or change.get("app_policy")
        or change.get("old_app_policy")
    )
    reason = f" ({change['reason']})" if change.get("reason") and not kind.endswith("app_policy") else ""
    if named and kind.endswith("app_policy"):
        return f"{kind} {named['rule']} {named['coverage']} {named['effect']} {','.join(named['spaces'])}"
    if named:
        return f"{kind} {named['name']}{reason}"
    what = change.get("permission") or f"{change.get('old_role') or ''}->{change.get('role') or ''}"
    return f"{kind} {change['space']} {change['principal']['ref']} {what}{reason}"


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """`reconciler sandbox serve --port 0` (the demo seed, in memory) and the variables it prints."""
    with spawned_server(cwd=ROOT, stop_timeout=10) as env:
        yield env


def _env(served: Mapping[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "ATLASSIAN_"))}
    env.update(
        CONFLUENCE_URL=served["CONFLUENCE_URL"],
        CONFLUENCE_EMAIL=served["CONFLUENCE_EMAIL"],
        CONFLUENCE_API_TOKEN=served["CONFLUENCE_API_TOKEN"],
        ATLASSIAN_ADMIN_API_KEY=served["ATLASSIAN_ADMIN_API_KEY"],
        ATLASSIAN_ADMIN_URL=served["CONFLUENCE_URL"],
    )
    env.update(extra)
    return {name: value for name, value in env.items() if value}  # "" = the variable is not set


def _plan(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", POLICIES, *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _control(served: Mapping[str, str], method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, served["CONFLUENCE_URL"] + path, json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def test_plan_over_http_shows_exactly_the_demo_changes_and_sends_only_gets(served: dict[str, str]) -> None:
    _control(served, "POST", "/_sandbox/reset-counters")
    done = _plan(_env(served), "--format", "json", "--detailed-exitcode")
    assert done.returncode == 2, done.stderr
    plan = json.loads(done.stdout)
    assert [describe(c) for c in plan["changes"]] == EXPECTED
    assert (plan["findings"], plan["held"], plan["notes"]) == ([], [], [
        ("3 app account(s) left alone (690 permission(s) and assignment(s) in 10 space(s)): installed apps' "
         "users are never changed unless a policy names them")])
    counters = _control(served, "GET", "/_sandbox/counters")["counters"]
    assert counters, "the plan made no request at all"
    assert sorted({key.split()[0] for key in counters}) == ["GET"]
    assert served["CONFLUENCE_API_TOKEN"] not in done.stdout + done.stderr


def test_a_storm_of_429s_and_503s_still_yields_the_same_plan(served: dict[str, str]) -> None:
    _control(served, "POST", "/_sandbox/reset-counters")
    assert _plan(_env(served), "--format", "json").returncode == 0
    calm = _control(served, "GET", "/_sandbox/counters")["total"]
    _control(served, "POST", "/_sandbox/reset-counters")
    _control(
        served,
        "POST",
        "/_sandbox/knobs",
        {"rate_limit": 40, "burst": 4, "fault_rate": 0.25, "fault_kinds": ["503"], "fault_seed": 7},
    )
    try:
        done = _plan(_env(served), "--format", "json")
    finally:
        _control(served, "POST", "/_sandbox/knobs", {"rate_limit": 0, "fault_rate": 0.0})
    assert done.returncode == 0, done.stderr
    assert [describe(c) for c in json.loads(done.stdout)["changes"]] == EXPECTED
    assert _control(served, "GET", "/_sandbox/counters")["total"] > calm  # the storm was real: retries


def test_text_plan_leads_with_the_summary_and_exits_0_without_detailed_exitcode(
    served: dict[str, str],
) -> None:
    done = _plan(_env(served))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Plan: 3 to assign, 1 to change, 1 to remove, 2 to grant in 3 spaces; 1 custom role to create; "
        "1 custom role to update; 1 custom role to delete; 5 data security policies to create; "
        "1 data security policy to update; 2 data security changes loosen a control"
    )
    assert "\x1b[" not in done.stdout  # not a terminal: no colour
    # not a terminal: no progress line, only milestones of phases that took a second or more
    assert all(re.fullmatch(r"  .+ \d+\.\d s(?: \([\d,]+/s\))?", line) for line in done.stderr.splitlines())


FAILURES = {
    "wrong token": (
        {"CONFLUENCE_API_TOKEN": "not-the-token"},
        (
            "error: GET /wiki/api/v2/space-role-mode: 401: Unauthorized; check CONFLUENCE_EMAIL and "
            "CONFLUENCE_API_TOKEN"
        ),
    ),
    "missing variable": (
        {"CONFLUENCE_API_TOKEN": ""},
        "error: no Confluence credentials: set CONFLUENCE_API_TOKEN (or CONFLUENCE_BEARER_TOKEN) for {url}",
    ),
}


@pytest.mark.parametrize(("extra", "message"), FAILURES.values(), ids=FAILURES.keys())
def test_credential_failures_are_one_line_without_the_token(
    served: dict[str, str], extra: dict[str, str], message: str
) -> None:
    done = _plan(_env(served, **extra))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == message.format(url=served["CONFLUENCE_URL"]) + "\n"
    assert served["CONFLUENCE_API_TOKEN"] not in done.stderr


def test_unreachable_site_is_one_line(served: dict[str, str]) -> None:
    done = _plan(_env(served, CONFLUENCE_URL="http://127.0.0.1:9", RECONCILER_MAX_RETRIES="0"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        "error: GET /wiki/api/v2/space-role-mode: no response: cannot reach 127.0.0.1:9"
    )
    assert "Traceback" not in done.stderr
    assert served["CONFLUENCE_API_TOKEN"] not in done.stderr


def test_a_failed_read_of_one_space_yields_no_plan_and_names_the_space(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    site = Site(seed_state("demo"))
    eng = site.state.space_by_key("ENG")
    assert eng is not None
    broken = f"/wiki/api/v2/spaces/{eng.id}/role-assignments"

    def failing(site_: Site, request: Request) -> Response:
        if request.path == broken:
            return Response.json(
                500, {"errors": [{"status": 500, "code": "BOOM", "title": "Internal error"}]}
            )
        return real(site_, request)

    real = sandbox_server.handle
    monkeypatch.setattr(sandbox_server, "handle", failing)
    running = sandbox_server.start_server(site)
    try:
        admin = next(u for u in site.state.users.values() if u.email == "svc-reconciler@acme.example")
        for name in [n for n in os.environ if n.startswith(("CONFLUENCE_", "ATLASSIAN_"))]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("CONFLUENCE_URL", running.url)
        monkeypatch.setenv("CONFLUENCE_EMAIL", admin.email)
        monkeypatch.setenv("CONFLUENCE_API_TOKEN", admin.api_token)
        monkeypatch.setenv("RECONCILER_MAX_RETRIES", "1")
        out = tmp_path / "plan.json"
        code = main(["plan", POLICIES, "--out", str(out)])
    finally:
        running.stop()
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert not out.exists()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"error: GET {broken} (space ENG): 500")
