"""`reconciler sandbox serve|reset|show` for simulated Confluence Data Center sites (``--seed dc-demo``)."""

from __future__ import annotations

import argparse
import sys

from reconciler.errors import ExitCode, UsageError
from reconciler.sandbox.datacenter import DcKnobs, DcSite, handle, open_dc_site, reset_dc_site, seed_state
from reconciler.sandbox.datacenter.seeds import ADMIN_USERNAME
from reconciler.sandbox.datacenter.state import DcState
from reconciler.sandbox.datacenter.store import read_state
from reconciler.sandbox.server import start_server
from reconciler.sandbox.store import state_path


def run(args: argparse.Namespace) -> int:
    if args.action == "serve":
        return _serve(args)
    if args.action == "reset":
        path = reset_dc_site(args.name, args.state_dir)
        sys.stdout.write(f"reset Data Center sandbox '{args.name}' from its seed ({path})\n")
        return int(ExitCode.OK)
    path = state_path(args.name, args.state_dir)
    sys.stdout.write(summarize(read_state(path) if path.exists() else seed_state(args.name)))
    return int(ExitCode.OK)


def summarize(state: DcState) -> str:
    lines = [(f"Data Center sandbox '{state.name}': version {state.version}, context path "
             f"'{state.context_path or '/'}', {len(state.spaces)} spaces, {len(state.users)} users, "
             f"{len(state.groups)} groups, {len(state.permissions)} space permissions")]
    for key in sorted(state.spaces):
        subjects = {subj for (s, subj, _) in state.permissions if s == key}
        lines.append(f"  {key}: {len(subjects)} subjects")
    return "\n".join(lines) + "\n"


def _serve(args: argparse.Namespace) -> int:
    knobs = DcKnobs(latency_ms=args.latency_ms, rate_limit=args.rate_limit, burst=args.burst,
                    fault_rate=args.fault_rate, fault_seed=args.fault_seed,
                    non_admin_status=args.non_admin_status, blocked_users=frozenset(args.block_user))
    if not 0.0 <= args.fault_rate <= 1.0:
        raise UsageError("--fault-rate must be between 0 and 1")
    try:
        site = (open_dc_site(args.name, args.state_dir, knobs, seed=args.seed) if args.name
                else DcSite(seed_state(args.seed), knobs))
    except ValueError as err:
        raise UsageError(str(err)) from None
    with site.writing() as state:
        if args.dc_version:
            state.version = args.dc_version
        if args.context_path is not None:
            state.context_path = "/" + args.context_path.strip("/") if args.context_path.strip("/") else ""
        if args.no_remote_api:
            state.remote_api_enabled = False
        if args.websudo:
            state.websudo = True
        admin = state.user_by_name(ADMIN_USERNAME)
        context, version = state.context_path, state.version
    assert admin is not None
    server = start_server(site, args.host, args.port, handler=handle)
    url = f"{server.url}{context}"
    out = sys.stdout
    out.write(f"Data Center sandbox '{site.name}' (Confluence {version}) serving at {url}"
              "  (Ctrl-C to stop)\n")
    out.write(f"  CONFLUENCE_URL={url}\n")
    out.write(f"  CONFLUENCE_PAT={admin.pat}   (a fake sandbox token, not a secret)\n")
    basic = f"CONFLUENCE_USERNAME={admin.username} CONFLUENCE_PASSWORD={admin.password}"
    out.write(f"  (or Basic auth: {basic})\n")
    out.write(f"  requests: {server.url}/_sandbox/requests\n")
    out.write(f"  counters: {server.url}/_sandbox/counters\n")
    out.flush()
    try:
        server.wait()
    except KeyboardInterrupt:
        out.write("stopping\n")
    finally:
        server.stop()
    return int(ExitCode.OK)
