"""The issue's "done when", as separate processes: `apply --auto-approve` then `plan --detailed-exitcode`
exits 0, on the persisted sandbox site and over HTTP against `sandbox serve --fault-rate 0.05`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.spawn import spawned_server
from tests.apply.sandbox_helpers import copy_policies

pytestmark = pytest.mark.e2e


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONFLUENCE_", "ATLASSIAN_", "RECONCILER_"))}
    env.update(extra)
    return env


def _run(cwd: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], env=dict(env), cwd=cwd,
        capture_output=True, text=True, timeout=180, check=False,
    )


def test_apply_then_plan_exits_0_on_the_persisted_sandbox_site(tmp_path: Path) -> None:
    copy_policies(tmp_path)
    env = _clean_env(CI="1", XDG_STATE_HOME=str(tmp_path / "state"))
    applied = _run(tmp_path, env, "apply", "policies", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.endswith("Apply complete: every change is written and verified.\n")
    assert (tmp_path / "state" / "reconciler" / "sandbox" / "demo.json").is_file()
    (tmp_path / "elsewhere").mkdir()  # the same site whatever the current directory
    planned = _run(tmp_path / "elsewhere", env, "plan", "../policies", "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr


@contextmanager
def serve(tmp_path: Path, *knobs: str) -> Iterator[dict[str, str]]:
    """`reconciler sandbox serve --port 0 <knobs>` and the variables it prints."""
    state = ("--state-dir", str(tmp_path / "served"))
    with spawned_server(*knobs, *state, cwd=tmp_path, stop_timeout=10) as env:
        yield env


def _http_env(served: Mapping[str, str]) -> dict[str, str]:
    passed = {k: v for k, v in served.items() if k.startswith(("CONFLUENCE_", "ATLASSIAN_"))}
    env = _clean_env(CI="1", **passed)
    env.setdefault("ATLASSIAN_ADMIN_URL", served["CONFLUENCE_URL"])
    return env


@pytest.fixture
def faulty_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    with serve(tmp_path, "--fault-rate", "0.05", "--fault-seed", "3") as served:
        yield served


def test_apply_then_plan_exits_0_over_http_with_5_percent_faults(
    tmp_path: Path, faulty_server: dict[str, str]
) -> None:
    copy_policies(tmp_path)
    env = _http_env(faulty_server)
    applied = _run(tmp_path, env, "apply", "policies", "--auto-approve", "--format", "json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert '"ok": true' in applied.stdout
    planned = _run(tmp_path, env, "plan", "policies", "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    counters = httpx.get(faulty_server["CONFLUENCE_URL"] + "/_sandbox/counters", timeout=10).json()
    assert any(key.startswith("POST /wiki/api/v2/spaces/") for key in counters["counters"])
    assert faulty_server["CONFLUENCE_API_TOKEN"] not in applied.stdout + applied.stderr


def _non_get(url: str) -> int:
    counters = httpx.get(url + "/_sandbox/counters", timeout=10).json()["counters"]
    return sum(n for key, n in counters.items() if not key.startswith("GET "))


def test_apply_killed_after_some_writes_then_run_again_converges(tmp_path: Path) -> None:
    copy_policies(tmp_path)
    with serve(tmp_path, "--latency-ms", "150") as served:
        env = _http_env(served)
        url = served["CONFLUENCE_URL"]
        before = httpx.get(url + "/_sandbox/state", timeout=10).json()
        proc = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "policies", "--auto-approve"],
                                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while _non_get(url) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no cleanup, no report
        assert proc.wait(timeout=10) == -signal.SIGKILL  # killed mid-run, not finished
        assert _non_get(url) >= 3
        applied = _run(tmp_path, env, "apply", "policies", "--auto-approve")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        planned = _run(tmp_path, env, "plan", "policies", "--detailed-exitcode")
        assert planned.returncode == 0, planned.stdout + planned.stderr
        after = httpx.get(url + "/_sandbox/state", timeout=10).json()
    assert before != after
