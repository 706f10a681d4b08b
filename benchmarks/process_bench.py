"""The whole `reconciler plan` process, as a user runs it, against `sandbox serve`, next to its lower bound.

    python benchmarks/process_bench.py                                  # 1,000, 5,000 and 10,000 spaces
    python benchmarks/process_bench.py --spaces 1000 --concurrency 16 --peer
    python benchmarks/process_bench.py --spaces 2000 --rate-limit 100  # a site that answers 429
    python benchmarks/process_bench.py --spaces 2000 --rate-limit 40 --burst 10 --latency-ms 0
    python benchmarks/process_bench.py --spaces 2000 --rate-limit 40 --burst 10 --knob budget_headers=false

For each size: writes the synthetic policy (20 assignments per space, 5% drift), starts ``reconciler
sandbox serve`` with the latency (and rate limit) asked for, and runs ``python -m reconciler plan policies
--format markdown --out plan.json`` as a child process from the folder that holds ``policies/`` (as the
workflows and a user in a policy repository run it), timed from start to exit. ``--absolute-path`` passes
the policy's absolute path instead: the plan file then names the policy files relative to that folder
(``planfile.relocated``: about 0.06 s more at 1,000 spaces). It prints:

- API calls (the sandbox's counters), calls per space;
- the lower bound max(calls x latency / concurrency, calls / rate limit) with concurrency the cap
  (``RECONCILER_CONCURRENCY``) and the calls counted without the 429 answers, and the ratio of the whole
  process to it;
- when the first API request reached the site, from the process's start (the sandbox's ``first_at``);
- the phases, from the milestone lines the process writes on stderr off a terminal (policy load, spaces
  read, ...);
- CPU (user + system) and peak RSS of the process (``/usr/bin/time``), the size of the Markdown and JSON;
- with a rate limit: the 429 answers (the sandbox counts them apart) and the rate of answers the site
  accepted while it was being read (its counters polled twice a second, from the first request counted to
  the last), against the limit.

``--peer`` also times the same reads made one after another by atlassian-python-api (``pip install
atlassian-python-api``; a sequential httpx loop when it is not installed, and the output says which),
side by side against the same server: the ratio is the peer's time over reconciler's whole process.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import CpuSample, probe, share  # noqa: E402
from benchmarks.slots import Logged, idle_by_phase, overshoot, parse_log, phase_marks  # noqa: E402
from reconciler.sandbox.spawn import spawned_server  # noqa: E402
from reconciler.sandbox.synthetic_policy import write_synthetic_policy  # noqa: E402

MILESTONE = re.compile(r"^  (?P<text>.+?)(?::)? (?:in )?(?P<seconds>\d+\.\d) s(?: \((?P<rate>[\d,]+)/s\))?$")


def main() -> None:
    args = _parse()
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for spaces in args.spaces:
        run_size(args, spaces)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--per-space", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rate-limit", type=float, default=0.0, help="requests/second (0 = unlimited)")
    parser.add_argument("--burst", type=int, help="the sandbox's token bucket size (default: the rate)")
    parser.add_argument("--knob", action="append", default=[], metavar="NAME=VALUE",
                        help="any sandbox knob, as `sandbox serve --knob` (budget_headers=false: 429s only)")
    parser.add_argument("--concurrency", type=int, default=8, help="RECONCILER_CONCURRENCY: the cap")
    parser.add_argument("--peer", action="store_true", help="also time the sequential peer")
    parser.add_argument("--absolute-path", action="store_true",
                        help="give the policy directory as an absolute path (default: `policies`, run from "
                        "the folder that holds it)")
    parser.add_argument("--reconciler", type=Path, default=ROOT, metavar="CHECKOUT",
                        help="time the reconciler of another checkout (before/after a change) against this "
                        "checkout's sandbox (default: this checkout)")
    return parser.parse_args()


@contextmanager
def serve(seed: str, latency_ms: float, rate_limit: float, burst: int | None,
          extra: list[str], *, request_log: Path | None = None) -> Iterator[dict[str, str]]:
    knobs = ("--seed", seed, "--latency-ms", str(latency_ms), "--rate-limit", str(rate_limit),
             *(("--burst", str(burst)) if burst is not None else ()),
             *(part for knob in extra for part in ("--knob", knob)),
             *(("--request-log", str(request_log)) if request_log is not None else ()))
    with spawned_server(*knobs, cwd=ROOT) as env:
        yield env


def run_size(args: argparse.Namespace, spaces: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policies"
        drift = write_synthetic_policy(policy, spaces, args.per_space, args.seed)
        seed = drift.site_url.removeprefix("sandbox:")
        log = Path(tmp) / "requests.log"
        with serve(seed, args.latency_ms, args.rate_limit, args.burst, args.knob, request_log=log) as server:
            url = server["CONFLUENCE_URL"]
            env = {**os.environ, **{k: server[k] for k in ("CONFLUENCE_URL", "CONFLUENCE_EMAIL",
                                                           "CONFLUENCE_API_TOKEN")},
                   "RECONCILER_CONCURRENCY": str(args.concurrency),
                   "PYTHONPATH": str(args.reconciler.resolve())}
            env.pop("CI", None)
            httpx.post(url + "/_sandbox/reset-counters", timeout=10)
            result_probe = probe()
            cpu_before = CpuSample.now()
            with _polled(url) as samples:
                result = _run_plan(policy, Path(tmp), env, absolute=args.absolute_path)
            cpu_after = CpuSample.now()
            result["probe"] = (result_probe, probe())
            result["machine"] = share(cpu_before, cpu_after) if cpu_before and cpu_after else None
            counters = httpx.get(url + "/_sandbox/counters", timeout=10).json()
            calls = int(counters["total"])
            result["throttled"] = int(counters.get("throttled", 0))
            first_at = counters.get("first_at")
            last_at = counters.get("last_at")
            result["first_request"] = None if first_at is None else float(first_at) - float(result["epoch"])
            result["last_request"] = None if last_at is None else float(last_at) - float(result["epoch"])
            result["accepted_rate"] = _accepted_rate(samples)
            result["requests"] = parse_log(log.read_text(encoding="utf-8").splitlines())
            peer = _peer(server, drift.site_url, policy, args) if args.peer else None
        _report(args, spaces, calls, result, peer)


@contextmanager
def _polled(url: str) -> Iterator[list[tuple[float, int]]]:
    """(time, answers the site accepted so far), sampled twice a second while the block runs."""
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.wait(0.5):
                counters = client.get(url + "/_sandbox/counters").json()
                accepted = int(counters["total"]) - int(counters.get("throttled", 0))
                samples.append((time.perf_counter(), accepted))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        yield samples
    finally:
        stop.set()
        poller.join()


def _accepted_rate(samples: list[tuple[float, int]]) -> float | None:
    """Accepted answers per second from the sample before the first change to the last change."""
    changed = [i for i in range(1, len(samples)) if samples[i][1] != samples[i - 1][1]]
    if not changed:
        return None
    first, last = samples[changed[0] - 1], samples[changed[-1]]
    return (last[1] - first[1]) / (last[0] - first[0]) if last[0] > first[0] else None


def _run_plan(policy: Path, tmp: Path, env: dict[str, str], *, absolute: bool) -> dict[str, object]:
    timing = tmp / "time.txt"
    given = str(policy) if absolute else policy.relative_to(tmp).as_posix()
    command = ["/usr/bin/time", "-o", str(timing), "-f", "%e %U %S %M", sys.executable, "-m", "reconciler",
               "plan", given, "--format", "markdown", "--out", str(tmp / "plan.json")]
    epoch, started = time.time(), time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines: list[tuple[float, str]] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.perf_counter() - started, line.rstrip("\n")))

    reader = threading.Thread(target=read_stderr)
    reader.start()
    markdown = proc.stdout.read() if proc.stdout else ""
    proc.wait()
    wall = time.perf_counter() - started
    reader.join()
    elapsed, user, system, rss = timing.read_text().split()[-4:]
    return {
        "wall": wall, "cpu": float(user) + float(system), "rss_mib": int(rss) / 1024, "exit": proc.returncode,
        "stderr": lines, "markdown": len(markdown), "json": (tmp / "plan.json").stat().st_size,
        "elapsed": float(elapsed), "epoch": epoch,
    }


def _report(args: argparse.Namespace, spaces: int, calls: int, result: dict[str, object],
            peer: tuple[str, float] | None) -> None:
    latency = args.latency_ms / 1000
    by_latency = calls * latency / args.concurrency
    needed = calls - int(str(result.get("throttled", 0)))  # a 429 is the site's refusal, not a needed call
    by_rate = needed / args.rate_limit if args.rate_limit else 0.0
    bound = max(by_latency, by_rate)
    wall = float(str(result["wall"]))
    print(f"\n{spaces} spaces x {args.per_space}, latency {args.latency_ms:g} ms, concurrency cap "
          f"{args.concurrency}, rate limit {args.rate_limit or 'none'} {' '.join(args.knob)}"
          f"(exit {result['exit']})")
    if args.absolute_path:
        print("  the policy directory given as an absolute path (the plan file's paths are relocated)")
    if args.reconciler.resolve() != ROOT:
        print(f"  reconciler timed: the checkout in {args.reconciler}")
    print(f"  API calls: {calls} ({calls / spaces:.3f} per space)")
    if args.rate_limit:
        accepted = result.get("accepted_rate")
        shown = f"{accepted:.1f}/s = {accepted / args.rate_limit:.0%} of the limit" if accepted else "n/a"
        throttled = int(str(result["throttled"]))
        print(f"  rate limit {args.rate_limit:g}/s burst {args.burst or 'default'}: {throttled} answers 429 "
              f"({calls - throttled} calls without them); accepted while reading: {shown}")
    print(f"  lower bound: {bound:.1f} s (calls x latency / concurrency {by_latency:.1f} s"
          + (f", calls without 429s / rate {by_rate:.1f} s" if by_rate else "") + ")")
    print(f"  whole process (start to exit): {wall:.2f} s; ratio {wall / bound:.3f}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _report_machine(result)
    print(f"  CPU {float(str(result['cpu'])):.1f} s, peak RSS {float(str(result['rss_mib'])):.0f} MiB; "
          f"Markdown {result['markdown']:,} characters, JSON plan {result['json']:,} bytes")
    first, last = result.get("first_request"), result.get("last_request")
    if isinstance(first, float):
        print(f"  first API request {first:.2f} s after the process started (the sandbox's first_at)")
    if isinstance(first, float) and isinstance(last, float):
        print(f"  split: {first:.2f} s to the first request, {last - first:.2f} s from the first to the last "
              f"({(last - first) / bound:.3f} of the bound), {wall - last:.2f} s from the last to exit")
    print("  phases (from the milestone lines on stderr):")
    stderr = result["stderr"]
    assert isinstance(stderr, list)
    loaded_at = None
    for at, line in stderr:
        if MILESTONE.match(line) or line.strip().startswith("waiting"):
            print(f"    at {at:6.1f} s: {line.strip()}")
        if line.strip().startswith("loaded the policy"):
            loaded_at = float(str(result["epoch"])) + at
    requests = result.get("requests")
    if isinstance(requests, list) and requests and not (args.rate_limit or args.knob):  # no 429s, no faults
        _report_slots(requests, args.concurrency, loaded_at, args.latency_ms / 1000)
    if peer is not None:
        name, seconds = peer
        print(f"  sequential peer ({name}), the same reads one after another: {seconds:.1f} s; "
              f"reconciler is {seconds / wall:.1f}x faster")


def _report_machine(result: dict[str, object]) -> None:
    """The machine's own state beside the figure (benchmarks/machine.py): a slow phase of a shared machine
    moves the whole figure, and these say whether one was under way."""
    before, after = result["probe"]  # type: ignore[misc]
    machine = result.get("machine")
    shares = (f"; the whole machine during the run: {machine[0]:.1%} of its CPU time stolen by the "
              f"hypervisor, {machine[1]:.0%} busy" if isinstance(machine, tuple) else "")
    print(f"  probe (benchmarks/machine.py; larger in a slow phase): {before[0] * 1000:.0f} ms wall / "
          f"{before[1] * 1000:.0f} ms CPU before, {after[0] * 1000:.0f} / {after[1] * 1000:.0f} ms after"
          f"{shares}")


def _report_slots(requests: list[Logged], cap: int, loaded_at: float | None, latency: float) -> None:
    """The time from the first request to the last answer over calls x latency / cap, phase by phase:
    the seconds lost to idle concurrency slots, and to the sandbox's own time beyond the latency
    (benchmarks/slots.py, the sandbox's request log)."""
    mean, added = overshoot(requests, latency, cap)
    print(f"  the sandbox took {mean * 1000:.2f} ms beyond the {latency * 1000:g} ms latency per request on "
          f"average (its request line read to its answer written): {added:.3f} s of the read")
    phases = idle_by_phase(requests, cap, phase_marks(requests, loaded_at))
    print(f"  idle concurrency slots, from the sandbox's request log (seconds lost of {cap} slots):")
    for name, length, lost in phases:
        print(f"    {name}: {length:.2f} s long, {lost:.3f} s lost ({lost / length:.0%} idle)")
    print(f"    in all: {sum(lost for _name, _length, lost in phases):.3f} s")


# ------------------------------------------------------------------------------------------ the peer


def _peer(server: dict[str, str], site_url: str, policy: Path, args: argparse.Namespace) -> tuple[str, float]:
    """The reads reconciler makes (mode, roles, catalogue, groups, key batches, one page of role
    assignments per space), one after another, the way a script on the peer library would."""
    url, email, token = server["CONFLUENCE_URL"], server["CONFLUENCE_EMAIL"], server["CONFLUENCE_API_TOKEN"]
    keys = sorted(p.stem for p in (policy / "spaces").glob("*.yaml"))
    try:
        from atlassian import Confluence  # type: ignore[import-untyped]
    except ImportError:
        name = "sequential httpx loop (atlassian-python-api is not installed)"
        return name, _httpx_peer(url, email, token, keys)
    confluence = Confluence(url=url, username=email, password=token, cloud=True)
    started = time.perf_counter()
    for path in ("wiki/api/v2/space-role-mode", "wiki/api/v2/space-roles", "wiki/api/v2/space-permissions"):
        confluence.get(path, params={"limit": 250})
    confluence.get("wiki/rest/api/group", params={"limit": 200})
    ids = []
    for start in range(0, len(keys), 250):
        page = confluence.get("wiki/api/v2/spaces", params={"keys": ",".join(keys[start:start + 250]),
                                                            "limit": 250})
        ids += [item["id"] for item in page["results"]]
    for ident in ids:
        confluence.get(f"wiki/api/v2/spaces/{ident}/role-assignments", params={"limit": 250})
    return "atlassian-python-api", time.perf_counter() - started


def _httpx_peer(url: str, email: str, token: str, keys: list[str]) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=url, auth=(email, token), timeout=30) as client:
        ids = []
        for start in range(0, len(keys), 250):
            page = client.get("/wiki/api/v2/spaces", params={"keys": ",".join(keys[start:start + 250]),
                                                              "limit": 250}).json()
            ids += [item["id"] for item in page["results"]]
        for ident in ids:
            client.get(f"/wiki/api/v2/spaces/{ident}/role-assignments", params={"limit": 250})
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
