"""Apply benchmark: a synthetic roles site over real HTTP with latency: writes per changed space, wall time.

    python benchmarks/apply_bench.py                                  # 500 spaces x 20, 50 ms, 5% drift
    python benchmarks/apply_bench.py --spaces 2000 --latency-ms 50 --concurrency 8
    python benchmarks/apply_bench.py --fault-rate 0.05                # the same under injected faults

Starts ``reconciler sandbox serve --seed synthetic:spaces=N,per_space=M,seed=S`` with the latency asked
for, writes the matching policy (``write_synthetic_policy``, 5% drift: assignments to add, change and
remove), plans it, then applies the plan and prints: changed spaces, write requests by route (from the
sandbox's counters), writes per changed space (target 1 on roles sites: one role-assignment POST carries
every add, change and removal of the space), the apply's wall time (writes + verification re-read) against
the lower bound ``requests x latency / concurrency``, and whether a fresh plan afterwards is empty.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.apply import apply_plan  # noqa: E402
from reconciler.flows.apply import open_policy_site  # noqa: E402
from reconciler.flows.connect import Connection  # noqa: E402
from reconciler.plan.changes import ACCESS_CHANGES  # noqa: E402
from reconciler.sandbox.spawn import spawned_server  # noqa: E402
from reconciler.sandbox.synthetic_policy import write_synthetic_policy  # noqa: E402

ROLE_POST = "POST /wiki/api/v2/spaces/{id}/role-assignments"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spaces", type=int, default=500)
    parser.add_argument("--per-space", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drift", type=float, default=0.05, help="share of assignments the policy changes")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args()
    bench(args)


@contextmanager
def serve(seed: str, latency_ms: float, fault_rate: float) -> Iterator[dict[str, str]]:
    knobs = ("--seed", seed, "--latency-ms", str(latency_ms),
             "--fault-rate", str(fault_rate), "--fault-seed", "1")
    with spawned_server(*knobs, cwd=ROOT) as env:
        yield env


def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        policies = Path(tmp) / "policies"
        drift = write_synthetic_policy(policies, args.spaces, args.per_space, args.seed, args.drift)
        with serve(drift.site_url.removeprefix("sandbox:"), args.latency_ms, args.fault_rate) as server:
            url = server["CONFLUENCE_URL"]
            env = {**os.environ, "CONFLUENCE_URL": url, "CONFLUENCE_EMAIL": server["CONFLUENCE_EMAIL"],
                   "CONFLUENCE_API_TOKEN": server["CONFLUENCE_API_TOKEN"],
                   "RECONCILER_CONCURRENCY": str(args.concurrency)}
            with Connection(env) as connection:
                site = open_policy_site(policies, connection)
                live, plan = site.plan()
                changed = sorted({c.space for c in plan.changes if isinstance(c, ACCESS_CHANGES)})
                httpx.post(url + "/_sandbox/reset-counters", timeout=10)
                started = time.perf_counter()
                result = apply_plan(plan, site.desired, reader=site.reader, writer=site.backend.writer,
                                    live=live, map_spaces=site.backend.map_spaces)
                wall = time.perf_counter() - started
                counters = httpx.get(url + "/_sandbox/counters", timeout=10).json()
            with Connection(env) as connection:
                _live, after = open_policy_site(policies, connection).plan()
    report(args, counters, changes=len(plan.changes), changed=len(changed), wall=wall,
           ok=result.ok, rereads=result.rereads, rounds=result.verify_rounds, left=len(after.changes))


def report(args: argparse.Namespace, counters: dict[str, object], *, changes: int, changed: int,
           wall: float, ok: bool, rereads: int, rounds: int, left: int) -> None:
    by_route = counters["counters"]
    assert isinstance(by_route, dict)
    total = int(str(counters["total"]))
    writes = {route: n for route, n in by_route.items() if not route.startswith("GET ")}
    reads = total - sum(writes.values())
    bound = total * args.latency_ms / 1000 / args.concurrency
    print(f"Apply: {args.spaces} spaces x {args.per_space}, {args.drift:.0%} drift, latency "
          f"{args.latency_ms:g} ms, concurrency {args.concurrency}, fault rate {args.fault_rate:g}")
    print(f"  plan: {changes} changes in {changed} spaces")
    print(f"  requests during apply: {total} ({sum(writes.values())} writes, {reads} verification reads)")
    for route, n in sorted(by_route.items()):
        print(f"    {n:6d}  {route}")
    print(f"  writes per changed space: {by_route.get(ROLE_POST, 0) / max(1, changed):.3f} "
          f"(role-assignment POSTs / changed spaces; target 1)")
    print(f"  apply wall time: {wall:.2f} s; lower bound {bound:.2f} s; ratio {wall / bound:.2f}")
    print(f"  result: {'ok' if ok else 'NOT ok'}; re-reads after unknown outcomes {rereads}; "
          f"verification rounds {rounds}; changes left in a fresh plan: {left}")


if __name__ == "__main__":
    main()
