"""Data Center plan benchmark: a synthetic DC sandbox served over real HTTP with latency, planned end to end.

    python benchmarks/dc_plan_bench.py                                   # 2,000 spaces at 50 ms
    python benchmarks/dc_plan_bench.py --spaces 200 --latency-ms 20 --jsonrpc

Starts ``reconciler sandbox serve --seed dc-synthetic:spaces=N,per_space=M,seed=S --latency-ms L`` (with
``--dc-version 8.9.3`` for ``--jsonrpc``), writes a policy that manages every space additively (the actor is
Admin everywhere), runs ``run_plan`` over HTTP and prints: spaces, API calls by route (the sandbox's
counters), calls per managed space, wall time, and the lower bound: the sequential calls (who, version,
space pages) x latency plus the per-space calls x latency / concurrency, with concurrency the cap actually
in force (``--concurrency``, else ``RECONCILER_CONCURRENCY``, else the client's default), read as the client
reads it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.confluence.endpoint import client_options  # noqa: E402
from reconciler.flows.connect import Connection  # noqa: E402
from reconciler.flows.plan import run_plan  # noqa: E402
from reconciler.sandbox.spawn import spawned_server  # noqa: E402

POLICY = """\
version: 1
site:
  url: {url}
  platform: datacenter
  {jsonrpc}
  actor: svc-reconciler
  default_authority: additive
people:
  svc-reconciler: svc-reconciler
defaults:
  - name: every space
    spaces: {{keys: ["*"]}}
    assign:
      user:svc-reconciler: Admin
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", type=int, default=2000)
    parser.add_argument("--per-space", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--jsonrpc", action="store_true", help="a DC 8.9 site: JSON-RPC only")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="RECONCILER_CONCURRENCY: the cap (default: the environment's, else the "
                        "client's)")
    args = parser.parse_args()
    seed = f"dc-synthetic:spaces={args.spaces},per_space={args.per_space},seed=1"
    flags = ["--seed", seed, "--latency-ms", str(args.latency_ms)]
    flags += ["--dc-version", "8.9.3"] if args.jsonrpc else []
    with spawned_server(*flags, cwd=ROOT) as server, tempfile.TemporaryDirectory() as tmp:
        url = server["CONFLUENCE_URL"]
        policy = Path(tmp) / "policy"
        policy.mkdir()
        (policy / "site.yaml").write_text(POLICY.format(
            url=url, jsonrpc="jsonrpc: allow" if args.jsonrpc else ""), encoding="utf-8")
        env = {**os.environ, "CONFLUENCE_URL": url, "CONFLUENCE_PAT": server["CONFLUENCE_PAT"]}
        if args.concurrency is not None:
            env["RECONCILER_CONCURRENCY"] = str(args.concurrency)
        origin = url.rsplit("/confluence", 1)[0]
        httpx.post(f"{origin}/_sandbox/reset-counters", timeout=10)
        started = time.perf_counter()
        with Connection(env) as connection:
            _, live, plan = run_plan(policy, connection)
        # the cap in force: what the client was opened with (the same reading of the environment)
        concurrency = int(client_options(env)["concurrency"])
        wall = time.perf_counter() - started
        counters = httpx.get(f"{origin}/_sandbox/counters", timeout=10).json()
    by_route: dict[str, int] = counters["counters"]
    total = int(counters["total"])
    per_space = sum(n for route, n in by_route.items() if "permissions" in route or "json-rpc" in route)
    sequential = sum(n for route, n in by_route.items()
                     if route.endswith(("/user/current", "/server-information", "/rest/api/space")))
    parallel = total - sequential
    bound = (sequential + math.ceil(parallel / concurrency)) * args.latency_ms / 1000
    print(f"spaces {len(live.spaces)}, changes {len(plan.changes)}, latency {args.latency_ms:g} ms, "
          f"{'JSON-RPC' if args.jsonrpc else 'REST'}, concurrency {concurrency}")
    for route, count in sorted(by_route.items()):
        print(f"  {count:6d}  {route}")
    print(f"calls {total}; permission calls per managed space {per_space / max(1, len(live.spaces)):.2f}; "
          f"all calls per managed space {total / max(1, len(live.spaces)):.3f}")
    print(f"wall {wall:.1f} s; lower bound {bound:.1f} s; ratio {wall / bound:.2f}")


if __name__ == "__main__":
    main()
