"""Access review benchmark: group-member reads over real HTTP, and the pure review at 2,000 x 5,000.

    python benchmarks/access_bench.py                          # both modes
    python benchmarks/access_bench.py --mode groups --people 5000 --groups 40 --latency-ms 50
    python benchmarks/access_bench.py --mode core --spaces 2000 --people 5000

Groups mode serves, from a child process on loopback, a synthetic site whose groups have thousands of
members (one ``all-staff`` of every person, the rest drawn by seed), reads every group's members with the
client (``fetch_group_members``, concurrency 8) and prints the calls per group (from the sandbox's counters),
the wall time, and the lower bound: max(pages x latency / concurrency, the largest group's pages x latency),
since one group's pages follow each other (offset paging) while groups are read side by side.

Core mode builds a review of N spaces x M people in memory (each space: 10 group grants, 3 user grants, the
actor), then times build + render of each format and prints the sizes: the HTML embeds the principal-level
JSON, so its size follows assignments + memberships, not spaces x people.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import random
import resource
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.confluence.client import ConfluenceClient  # noqa: E402
from reconciler.confluence.members import MEMBERS_PAGE, fetch_group_members  # noqa: E402
from reconciler.live_state import GroupMembers, LiveRole, LiveSpace, LiveState, Member, SpaceInfo  # noqa: E402
from reconciler.model import (  # noqa: E402
    Authority,
    DefaultRule,
    DesiredAssignment,
    DesiredState,
    Principal,
    PrincipalKind,
    RoleMode,
    SafetySettings,
    SiteModel,
    SiteSettings,
    Source,
    SpaceSelector,
)
from reconciler.permissions import DEFAULT_ROLE_DESCRIPTIONS, DEFAULT_ROLE_PERMISSIONS  # noqa: E402
from reconciler.report.access_render import render_access  # noqa: E402
from reconciler.review import Review, build_review  # noqa: E402
from reconciler.sandbox.faults import Knobs  # noqa: E402
from reconciler.sandbox.seeds import ADMIN_EMAIL, admin_token, synthetic_state  # noqa: E402
from reconciler.sandbox.server import start_server  # noqa: E402
from reconciler.sandbox.site import Site  # noqa: E402
from reconciler.sandbox.state import Group, User  # noqa: E402

ROLES = ("Admin", "Manager", "Collaborator", "Viewer")


def main() -> None:
    args = _parse()
    if args.mode in ("groups", "both"):
        groups_bench(args)
    if args.mode in ("core", "both"):
        core_bench(args)
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("groups", "core", "both"), default="both")
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--spaces", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv-spaces", type=int, default=100, help="core: spaces rendered as CSV")
    parser.add_argument("--html-out", default="/tmp/access-bench.html", help="core: where the HTML goes")
    return parser.parse_args()


def _sizes(people: int, groups: int, seed: int) -> dict[str, list[str]]:
    """Group name -> member account ids: all-staff has everyone, the others 20..2,000 drawn by seed."""
    rng = random.Random(seed)
    accounts = [f"5d{i:022x}" for i in range(people)]
    out = {"all-staff": accounts}
    for n in range(1, groups):
        out[f"team-{n:03d}"] = rng.sample(accounts, min(people, int(20 * 100 ** rng.random())))
    return out


# ----------------------------------------------------------------------------------------------- groups


def _serve(conn: Connection, people: int, groups: int, seed: int, latency_ms: float) -> None:
    state = synthetic_state(1, 2, seed)
    for name, accounts in _sizes(people, groups, seed).items():
        for account in accounts:
            state.users.setdefault(account, User(account, f"Person {account[-6:]}", f"{account}@x.example"))
        state.groups[f"gid-{name}"] = Group(f"gid-{name}", name, list(accounts))
    state.reindex()
    server = start_server(Site(state, Knobs(latency_ms=latency_ms)))
    conn.send(server.url)
    conn.recv()  # stop
    server.stop()


def groups_bench(args: argparse.Namespace) -> None:
    sizes = _sizes(args.people, args.groups, args.seed)
    parent, child = multiprocessing.Pipe()
    name = f"synthetic:spaces=1,per_space=2,seed={args.seed}"
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(child, args.people, args.groups, args.seed, args.latency_ms))
    proc.start()
    try:
        url = parent.recv()
        httpx.post(url + "/_sandbox/reset-counters", timeout=10)
        auth = httpx.BasicAuth(ADMIN_EMAIL, admin_token(name))
        with ConfluenceClient(url, auth=auth, read_only=True, concurrency=args.concurrency) as client:
            started = time.perf_counter()
            members = fetch_group_members(client, {g: f"gid-{g}" for g in sizes})
            wall = time.perf_counter() - started
        counters = httpx.get(url + "/_sandbox/counters", timeout=10).json()
    finally:
        parent.send("stop")
        proc.join(10)
    pages = {g: max(1, math.ceil(len(a) / MEMBERS_PAGE)) for g, a in sizes.items()}
    total = int(counters["total"])
    latency = args.latency_ms / 1000
    bound = max(sum(pages.values()) * latency / args.concurrency, max(pages.values()) * latency)
    read = sum(len(m.members) for m in members.values())
    print(f"group reads: {len(sizes)} groups, {read} memberships ({args.people} people), latency "
          f"{args.latency_ms:g} ms, concurrency {args.concurrency}")
    print(f"  calls: {total} (expected pages {sum(pages.values())}); "
          f"calls per group {total / len(sizes):.2f}; "
          f"largest group {max(len(a) for a in sizes.values())} members = {max(pages.values())} pages")
    ratio = f"; ratio {wall / bound:.2f}" if bound else ""
    print(f"  wall {wall:.2f} s; lower bound {bound:.2f} s{ratio}")


# ------------------------------------------------------------------------------------------------- core


def _core_states(spaces: int, people: int, groups: int, seed: int) -> tuple[DesiredState, LiveState,
                                                                            dict[str, GroupMembers]]:
    rng = random.Random(seed)
    sizes = _sizes(people, groups, seed)
    names = sorted(sizes)
    accounts = sizes["all-staff"]
    roles = {n: LiveRole(f"id-{n}", n, "SYSTEM", DEFAULT_ROLE_DESCRIPTIONS[n], p)
             for n, p in DEFAULT_ROLE_PERMISSIONS.items()}
    actor = Principal(PrincipalKind.USER, accounts[0])
    live_spaces = {}
    for i in range(spaces):
        key = f"S{i:05d}"
        assignments = {actor: "Admin"}
        for group in rng.sample(names, 10):
            assignments[Principal(PrincipalKind.GROUP, group)] = rng.choice(ROLES)
        for account in rng.sample(accounts, 3):
            assignments[Principal(PrincipalKind.USER, account)] = rng.choice(ROLES)
        live_spaces[key] = LiveSpace(SpaceInfo(key, str(i), f"Space {i}", "global"), assignments)
    live = LiveState(RoleMode.ROLES, roles, frozenset(), live_spaces, {g: f"gid-{g}" for g in names})
    rule = DefaultRule("all", SpaceSelector(("*",)),
                       (DesiredAssignment(actor, "Admin", Source("policies/defaults.yaml", 4)),),
                       Source("policies/defaults.yaml", 2))
    desired = DesiredState(
        SiteSettings("sandbox:bench", SiteModel.ROLES, 10, actor, Authority.ADDITIVE), SafetySettings(), {},
        {}, (rule,), {}, None, None, (), "0" * 64)
    members = {g: GroupMembers(g, f"gid-{g}", tuple(sorted(Member(a, "", False) for a in accs)))
               for g, accs in sizes.items()}
    return desired, live, members


def core_bench(args: argparse.Namespace) -> None:
    desired, live, members = _core_states(args.spaces, args.people, args.groups, args.seed)
    started = time.process_time()
    review = build_review(desired, live, members, site="sandbox:bench")
    print(f"core: {args.spaces} spaces x {args.people} people, {args.groups} groups "
          f"({sum(len(m.members) for m in members.values())} memberships)")
    print(f"  build (with drift per person): {time.process_time() - started:.2f} s CPU")
    for fmt in ("json", "html"):
        started = time.process_time()
        out = render_access(review, fmt)
        print(f"  {fmt:5s} {time.process_time() - started:6.2f} s CPU  {len(out.encode()) / 1e6:8.1f} MB")
        if fmt == "html":
            Path(args.html_out).write_text(out, encoding="utf-8")
    pairs = sum(len({r for g in s.grants for r in review.reach(g)}) for s in review.spaces)
    few = Review(review.site, review.names, review.people, review.groups, review.spaces[:args.csv_spaces])
    started = time.process_time()
    out = render_access(few, "csv")
    cpu = time.process_time() - started
    rows = out.count("\n") - 1
    print(f"  csv of the first {args.csv_spaces} spaces: {rows} rows, {cpu:.2f} s CPU, "
          f"{len(out.encode()) / 1e6:.1f} MB; the whole site has {pairs} (space, person) rows: "
          f"about {cpu * pairs / rows:.0f} s and {len(out.encode()) * pairs / rows / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
