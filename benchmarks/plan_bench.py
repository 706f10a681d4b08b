"""Plan benchmark: a synthetic sandbox site served over real HTTP with latency, and an in-process diff+render.

    python benchmarks/plan_bench.py                        # both modes, the targets' sizes
    python benchmarks/plan_bench.py --mode http --spaces 200 --latency-ms 20
    python benchmarks/plan_bench.py --mode diff --assignments 100000
    python benchmarks/plan_bench.py --mode worst --assignments 200000

HTTP mode starts ``reconciler sandbox serve --seed synthetic:spaces=N,per_space=M,seed=S`` with the latency
(and rate limit) asked for, writes the matching policy (``write_synthetic_policy``), plans it over HTTP
and prints: spaces, API calls (from the sandbox's counters), calls per managed space, wall time of the
read, the lower bound max(calls x latency / concurrency, calls / rate limit), their ratio, CPU seconds of
diff and render, and peak RSS. Diff mode builds 100,000 live assignments in memory and measures the CPU
time of diff + safety + render. Targets (issue 4): calls per managed space <= 1.05 plus list pages; read
wall time <= 1.3x the lower bound at 2,000 spaces and 50 ms; diff + render of 100,000 under 2 s CPU.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.atomicfile import write_chunks_atomically  # noqa: E402
from reconciler.flows.connect import Connection  # noqa: E402
from reconciler.flows.live import request_for  # noqa: E402
from reconciler.flows.plan import existing_objects_frozen  # noqa: E402
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo  # noqa: E402
from reconciler.model import (  # noqa: E402
    Authority,
    DesiredAssignment,
    DesiredSpace,
    DesiredState,
    Principal,
    PrincipalKind,
    RoleMode,
    SafetySettings,
    SiteModel,
    SiteSettings,
    Source,
)
from reconciler.plan.diff import build_plan  # noqa: E402
from reconciler.plan.planfile import iter_plan  # noqa: E402
from reconciler.policy.loader import load_policy  # noqa: E402
from reconciler.report.plan_render import render_plan  # noqa: E402
from reconciler.sandbox.spawn import spawned_server  # noqa: E402
from reconciler.sandbox.synthetic_policy import write_synthetic_policy  # noqa: E402


def main() -> None:
    args = _parse()
    if args.mode in ("http", "both"):
        http_bench(args)
    if args.mode in ("diff", "both"):
        diff_bench(args.assignments, args.per_space_diff)
        diff_bench(args.assignments, args.per_space_diff, every=True)
    if args.mode == "worst":
        worst_bench(args.assignments, args.per_space_diff)
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("http", "diff", "both", "worst"), default="both")
    parser.add_argument("--spaces", type=int, default=2000)
    parser.add_argument("--per-space", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rate-limit", type=float, default=0.0, help="requests/second (0 = unlimited)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--assignments", type=int, default=100_000, help="diff mode: live assignments")
    parser.add_argument("--per-space-diff", type=int, default=50, help="diff mode: assignments per space")
    return parser.parse_args()


# ------------------------------------------------------------------------------------------------- http


@contextmanager
def serve(seed: str, latency_ms: float, rate_limit: float) -> Iterator[dict[str, str]]:
    knobs = ("--seed", seed, "--latency-ms", str(latency_ms), "--rate-limit", str(rate_limit))
    with spawned_server(*knobs, cwd=ROOT) as env:
        yield env


def http_bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        drift = write_synthetic_policy(Path(tmp) / "policies", args.spaces, args.per_space, args.seed)
        seed = drift.site_url.removeprefix("sandbox:")
        with serve(seed, args.latency_ms, args.rate_limit) as server:
            env = {**os.environ, "CONFLUENCE_URL": server["CONFLUENCE_URL"],
                   "CONFLUENCE_EMAIL": server["CONFLUENCE_EMAIL"],
                   "CONFLUENCE_API_TOKEN": server["CONFLUENCE_API_TOKEN"],
                   "RECONCILER_CONCURRENCY": str(args.concurrency)}
            started = time.perf_counter()
            desired = load_policy(Path(tmp) / "policies")
            loaded = time.perf_counter()
            httpx.post(server["CONFLUENCE_URL"] + "/_sandbox/reset-counters", timeout=10)
            with Connection(env) as connection:
                live = connection.open(desired.site.url, read_only=True).read(request_for(desired))
            read = time.perf_counter() - loaded
            counters = httpx.get(server["CONFLUENCE_URL"] + "/_sandbox/counters", timeout=10).json()
        cpu = time.process_time()
        plan = build_plan(desired, live)  # the changes and their safety assessment
        diff_cpu = time.process_time() - cpu
        cpu = time.process_time()
        render_plan(plan, "text")
        render_plan(plan, "markdown")
        render_cpu = time.process_time() - cpu
    _report_http(args, counters, read=read, load=loaded - started, diff_cpu=diff_cpu, render_cpu=render_cpu,
                 changes=len(plan.changes), expected=drift.changes)


def _report_http(args: argparse.Namespace, counters: dict[str, object], *, read: float, load: float,
                 diff_cpu: float, render_cpu: float, changes: int, expected: int) -> None:
    by_route = counters["counters"]
    assert isinstance(by_route, dict)
    total = int(str(counters["total"]))
    per_space_calls = sum(n for route, n in by_route.items() if "{id}" in route)
    list_calls = total - per_space_calls
    bound = max(total * args.latency_ms / 1000 / args.concurrency,
                total / args.rate_limit if args.rate_limit else 0.0)
    print(f"HTTP plan: {args.spaces} spaces x {args.per_space}, latency {args.latency_ms:g} ms, "
          f"concurrency {args.concurrency}, rate limit {args.rate_limit or 'none'}")
    print(f"  API calls: {total} ({per_space_calls} per-space + {list_calls} list/site-wide)")
    for route, n in sorted(by_route.items()):
        print(f"    {n:6d}  {route}")
    print(f"  calls per managed space: {per_space_calls / args.spaces:.3f} (+ {list_calls} list pages "
          f"and site-wide reads = {total / args.spaces:.3f} all in)")
    print(f"  read wall time: {read:.2f} s; lower bound {bound:.2f} s; ratio {read / bound:.2f}")
    print(f"  policy load: {load:.2f} s (local, not part of the bound)")
    print(f"  plan: {changes} changes (the synthetic policy drifts by {expected})")
    print(f"  CPU: diff + safety {diff_cpu:.2f} s, render text + markdown {render_cpu:.2f} s")


# ------------------------------------------------------------------------------------------------- diff


def synthetic_states(
    assignments: int, per_space: int, *, every: bool = False
) -> tuple[DesiredState, LiveState]:
    """A roles site with ``assignments`` live assignments; the policy drifts by 5% (add, change, remove),
    or, with ``every``, changes every assignment but the actor's (the worst case for render)."""
    actor = Principal(PrincipalKind.USER, "svc")
    roles = ("Viewer", "Collaborator", "Manager")
    desired_spaces: dict[str, DesiredSpace] = {}
    live_spaces: dict[str, LiveSpace] = {}
    for s in range(max(1, assignments // per_space)):
        key = f"S{s:05d}"
        source = Source(f"policies/spaces/{key}.yaml", 3)
        live = {actor: "Admin"} | {
            Principal(PrincipalKind.USER, f"u{s}-{i}"): roles[i % 3] for i in range(per_space - 1)
        }
        want = []
        for i, (who, role) in enumerate(live.items()):
            if i % 60 == 7:
                continue  # unlisted: removed (exact)
            changed = (every or i % 60 == 9) and who != actor
            new = roles[(roles.index(role) + 1) % 3] if changed else role
            want.append(DesiredAssignment(who, new, Source(source.file, 5 + i)))
        group = Principal(PrincipalKind.GROUP, f"g{s}")
        want.append(DesiredAssignment(group, "Viewer", Source(source.file, 4)))
        desired_spaces[key] = DesiredSpace(key, Authority.EXACT, tuple(want), (), False, (), source)
        live_spaces[key] = LiveSpace(SpaceInfo(key, str(s), key, "global"), live)
    desired = DesiredState(
        site=SiteSettings("sandbox:bench", SiteModel.ROLES, 10, actor, Authority.EXACT),
        safety=SafetySettings(max_removal_fraction=0.5), people={}, roles={}, defaults=(),
        spaces=desired_spaces, data_security=None, guest_max_role=None, drift_ignore=(),
        digest="sha256:bench",
    )
    system = {n: LiveRole(n, n, "SYSTEM", "", frozenset()) for n in ("Admin", *roles)}
    groups = {f"g{s}": f"id-g{s}" for s in range(len(live_spaces))}  # the policy's groups exist on the site
    return desired, LiveState(RoleMode.ROLES, system, frozenset(), live_spaces, groups)


def diff_bench(assignments: int, per_space: int, *, every: bool = False) -> None:
    desired, live = synthetic_states(assignments, per_space, every=every)
    total = sum(len(s.assignments) for s in live.spaces.values())
    cpu = time.process_time()
    plan = build_plan(desired, live)  # the changes and their safety assessment
    findings = plan.findings
    diff_cpu = time.process_time() - cpu
    timings = {}
    for fmt in ("text", "markdown", "json"):
        cpu = time.process_time()
        size = len(render_plan(plan, fmt))
        timings[fmt] = (time.process_time() - cpu, size)
    label = "In-process (every assignment changes)" if every else "In-process"
    print(f"{label}: {len(live.spaces)} spaces, {total} live assignments, {len(plan.changes)} changes, "
          f"{len(findings)} findings")
    print(f"  CPU: diff + safety {diff_cpu:.2f} s")
    for fmt, (seconds, size) in timings.items():
        print(f"  CPU: render {fmt} {seconds:.2f} s ({size:,} characters)")
    print(f"  diff + render text: {diff_cpu + timings['text'][0]:.2f} s CPU (target < 2 s)")


def worst_bench(assignments: int, per_space: int) -> None:
    """The issue's measure, as ``plan --format markdown --out plan.json`` does it: every assignment changes;
    diff + safety, the JSON plan written to a file (in pieces) and the Markdown comment; CPU and peak RSS."""
    desired, live = synthetic_states(assignments, per_space, every=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps: dict[str, float] = {}
    cpu = time.process_time()
    with existing_objects_frozen():  # as plan_from_live builds it
        plan = build_plan(desired, live)
    steps["diff + safety"] = time.process_time() - cpu
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "plan.json"
        cpu = time.process_time()
        write_chunks_atomically(out, iter_plan(plan))
        steps["JSON plan written"] = time.process_time() - cpu
        size = out.stat().st_size
    cpu = time.process_time()
    markdown = render_plan(plan, "markdown")
    steps["Markdown"] = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    text = render_plan(plan, "text")  # every line: the terminal report has no budget
    text_cpu = time.process_time() - cpu
    print(f"Every assignment changes: {len(live.spaces)} spaces, {len(plan.changes)} changes")
    for name, seconds in steps.items():
        print(f"  CPU: {name} {seconds:.2f} s")
    print(f"  JSON plan {size:,} bytes, Markdown {len(markdown):,} characters")
    print(f"  total {sum(steps.values()):.2f} s CPU (target < 2 s); peak RSS {peak:.0f} MiB "
          f"({before:.0f} MiB after building the synthetic states; target < 500 MiB)")
    print(f"  not in the total: text report {text_cpu:.2f} s CPU ({len(text):,} characters, every line)")


if __name__ == "__main__":
    main()
