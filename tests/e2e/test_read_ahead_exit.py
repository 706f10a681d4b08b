"""The whole ``reconciler plan`` process when the read started beside the policy load is stopped.

A stopped read may be waiting out a ``Retry-After`` on reader threads of its own; the process must still
end with the policy's one-line error, without waiting for them at interpreter exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from reconciler.sandbox.spawn import spawned_server
from reconciler.sandbox.synthetic_policy import write_synthetic_policy

ROOT = Path(__file__).resolve().parents[2]
RETRY_AFTER = 100  # seconds the site asks for: within the client's retry budget, so the read waits them out
GUARD = 60  # a process that waited the Retry-After out is still running after this many seconds


def test_a_policy_mistake_ends_the_process_while_the_stopped_read_waits_out_a_retry_after(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policies"
    drift = write_synthetic_policy(policy, 1500, 5, 1)
    last = sorted((policy / "spaces").glob("*.yaml"))[-1]
    last.write_text(last.read_text(encoding="utf-8").replace("assign:", "asign:"), encoding="utf-8")
    seed = drift.site_url.removeprefix("sandbox:")
    limited = ("--rate-limit", "1", "--burst", "2", "--retry-after", str(RETRY_AFTER))
    with spawned_server("--seed", seed, *limited, cwd=ROOT, stop_timeout=10) as served:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFLUENCE_", "ATLASSIAN_", "CI"))}
        env.update({k: served[k] for k in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL", "CONFLUENCE_API_TOKEN")})
        proc = subprocess.Popen([sys.executable, "-m", "reconciler", "plan", str(policy), "--no-progress"],
                                env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            out, err = proc.communicate(timeout=GUARD)
        finally:
            proc.kill()
        counters = httpx.get(served["CONFLUENCE_URL"] + "/_sandbox/counters", timeout=10).json()
    assert int(counters.get("throttled", 0)) >= 1  # the read was made to wait while the policy loaded
    assert proc.returncode == 1
    assert out == ""
    assert err == f"{last.as_posix()}:4:5: spaces.{last.stem}: unknown key 'asign' (did you mean 'assign'?)\n"
