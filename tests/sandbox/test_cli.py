"""`reconciler sandbox reset|show|serve`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.sandbox.transport import open_sandbox_transport


def test_show_summarizes_spaces_assignments_grants_and_roles(
    sandbox_state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "show", "demo", "--state-dir", str(sandbox_state_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sandbox site 'demo'\n  role mode: ROLES_TRANSITION")
    assert "  12 spaces, 33 users (2 guests, 3 apps), 11 groups, 6 roles (2 custom), 7 org policies\n" in out
    assert "  Legal Reviewer [CUSTOM] read/space, create/comment\n" in out
    assert "OPS  Operations  (id 1474561, global, current)\n" in out
    assert ("  group:contractors                        custom access: read/space#100001, "
            "export_content/space#100941 (with #100001)\n") in out
    assert "  user:557058:2b5e6f50-0c1d-4e2f-9a3b-4c5d6e7f8091 (app: Jira Cloud) custom access: " in out
    assert "  user:gina (guest)                        Viewer\n" in out
    assert "  Confidential spaces [published] appAccess block in 1 space(s)\n" in out
    assert "  No public links [published] publicLinks block in the org\n" in out


def test_reset_discards_changes(sandbox_state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transport = open_sandbox_transport("demo", sandbox_state_dir)
    body = {"name": "Temp", "description": "", "spacePermissions": ["read/space"]}
    with httpx.Client(
        transport=transport,
        base_url="https://sandbox.invalid",
        auth=("svc-reconciler@acme.example", "sandbox-admin-token-demo"),
    ) as client:
        assert client.post("/wiki/api/v2/space-roles", json=body).status_code == 201
    assert "Temp" in (sandbox_state_dir / "demo.json").read_text()
    assert main(["sandbox", "reset", "demo", "--state-dir", str(sandbox_state_dir)]) == 0
    assert (
        capsys.readouterr().out == f"reset sandbox 'demo' from its seed ({sandbox_state_dir / 'demo.json'})\n"
    )
    assert "Temp" not in (sandbox_state_dir / "demo.json").read_text()


def test_unknown_seed_is_a_usage_error(sandbox_state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "show", "prod", "--state-dir", str(sandbox_state_dir)]) == 1
    assert capsys.readouterr().err == (
        "error: unknown sandbox seed 'prod': expected 'demo' or 'synthetic:spaces=N,per_space=M,seed=S' "
        "(optionally followed by +live or +plain)\n"
    )


@pytest.mark.e2e
def test_serve_prints_its_url_and_credentials_and_answers() -> None:
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "sandbox",
        "serve",
        "--port",
        "0",
        "--admin-token",
        "t0ken",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            lines = [process.stdout.readline() for _ in range(6)]
            url = first.split(" serving at ")[1].split()[0]
            assert first == f"sandbox 'demo' serving at {url}  (Ctrl-C to stop)\n"
            assert lines[:3] == [
                f"  CONFLUENCE_URL={url}\n",
                "  CONFLUENCE_EMAIL=svc-reconciler@acme.example\n",
                "  CONFLUENCE_API_TOKEN=t0ken   (a fake sandbox token, not a secret)\n",
            ]
            response = httpx.get(
                f"{url}/wiki/api/v2/space-role-mode", auth=("svc-reconciler@acme.example", "t0ken")
            )
            assert response.json() == {"mode": "ROLES_TRANSITION"}
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_serve_knob_flags_set_any_knob_by_name() -> None:
    from reconciler.cli import build_parser
    from reconciler.commands.sandbox.actions import _knobs

    args = build_parser().parse_args(
        ["sandbox", "serve", "--knob", "last_admin_guard=false", "--knob", "role_task_lag=0",
         "--knob", "reshape=[\"role-assignments\"]", "--read-lag-ms", "5"]
    )
    knobs = _knobs(args)
    assert (knobs.last_admin_guard, knobs.role_task_lag, knobs.reshape, knobs.read_lag_ms) == (
        False, 0, frozenset({"role-assignments"}), 5.0)


def test_an_unknown_knob_is_a_usage_error_naming_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "serve", "--knob", "speed=11", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --knob: unknown knobs: speed; known knobs: latency_ms, rate_limit,")


def test_serve_help_names_every_fault_kind_the_sandbox_knows() -> None:
    """The parser names the fault kinds without importing the sandbox (start-up); they stay the same."""
    from reconciler.commands.sandbox import FAULT_KINDS_SHOWN
    from reconciler.sandbox.faults import FAULT_KINDS

    assert FAULT_KINDS_SHOWN == FAULT_KINDS
