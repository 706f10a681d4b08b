"""`reconciler sandbox serve|reset|show`: run, reset and inspect simulated Confluence Cloud and Data Center
sites.

See docs/commands/sandbox.md and docs/sandbox.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import ExitCode, UsageError
from reconciler.sandbox.control import knobs_with
from reconciler.sandbox.datacenter import (
    DcKnobs,
    DcSite,
    handle,
    is_datacenter,
    is_dc_seed,
    open_dc_site,
    reset_dc_site,
)
from reconciler.sandbox.datacenter import seed_state as dc_seed_state
from reconciler.sandbox.datacenter.seeds import ADMIN_USERNAME
from reconciler.sandbox.datacenter.state import DcState
from reconciler.sandbox.datacenter.store import read_state as read_dc_state
from reconciler.sandbox.demo_data import SVC_ACCOUNT_ID
from reconciler.sandbox.faults import FAULT_KINDS, Knobs
from reconciler.sandbox.seeds import seed_state
from reconciler.sandbox.server import RunningServer, start_server
from reconciler.sandbox.site import Site
from reconciler.sandbox.store import open_site, reset_site, state_path
from reconciler.sandbox.summary import summarize

_SEED_HELP = ("demo (default) or synthetic:spaces=N,per_space=M,seed=S, optionally followed by +live "
              "(the live vocabulary) or +plain; or a Data Center site: dc-demo, "
              "dc-synthetic:spaces=N,per_space=M,seed=S")
_STATE_DIR_HELP = ("where persisted sites live (default: RECONCILER_SANDBOX_DIR, else "
                   "$XDG_STATE_HOME/reconciler/sandbox, else ~/.local/state/reconciler/sandbox, whatever the "
                   "current directory; the same directory site.url: sandbox:<name> uses)")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="run, reset or show a simulated Confluence Cloud site",
        description="Run a simulated Confluence Cloud site on loopback, or reset/show a persisted one "
        "(the sites that site.url: sandbox:<name> uses, kept in <state dir>/<name>.json; see --state-dir).",
    )
    actions = sub_actions(parser)
    _add_serve(actions)
    reset = actions.add_parser("reset", help="recreate a persisted site from its seed")
    reset.add_argument("name", help="site name: demo or synthetic:spaces=N,per_space=M,seed=S")
    reset.add_argument("--state-dir", type=Path, default=None, help=_STATE_DIR_HELP)
    reset.set_defaults(func=run, action="reset")
    show = actions.add_parser("show", help="summarize a persisted site: spaces, assignments, grants, roles")
    show.add_argument("name", help="site name: demo or synthetic:spaces=N,per_space=M,seed=S")
    show.add_argument("--state-dir", type=Path, default=None, help=_STATE_DIR_HELP)
    show.set_defaults(func=run, action="show")
    parser.set_defaults(func=_missing_action)


def _add_serve(actions: Any) -> None:
    serve = actions.add_parser("serve", help="serve a sandbox site over HTTP on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8089, help="TCP port (0 = any free port; default 8089)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--seed", default="demo", help=_SEED_HELP)
    serve.add_argument(
        "--name",
        help="serve the persisted site NAME (created from --seed if new) and "
        "save every write to it; default: a fresh in-memory site",
    )
    serve.add_argument("--state-dir", type=Path, default=None, help=_STATE_DIR_HELP)
    serve.add_argument(
        "--admin-email", help="email of the admin account (default svc-reconciler@acme.example)"
    )
    serve.add_argument("--admin-token", help="API token of the admin account")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request")
    serve.add_argument("--rate-limit", type=float, default=0.0, help="requests/second before 429 (0 = off)")
    serve.add_argument("--burst", type=int, help="token bucket size (default: the rate, at least 1)")
    serve.add_argument("--retry-after", type=int, help="Retry-After seconds on 429/503 (default: computed)")
    serve.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (0..1)")
    serve.add_argument("--fault-seed", type=int, default=0, help="seed of the fault sequence")
    serve.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated faults to draw from (default {','.join(FAULT_KINDS)})",
    )
    serve.add_argument("--slow-ms", type=float, default=1000.0, help="extra delay of a 'slow' fault")
    serve.add_argument("--read-lag-ms", type=float, default=0.0, help="read-after-write lag")
    serve.add_argument(
        "--hide-space",
        action="append",
        default=[],
        metavar="KEY",
        help="hide a space from every caller (repeatable)",
    )
    serve.add_argument(
        "--knob",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any knob by name, VALUE in JSON (e.g. last_admin_guard=false, role_task_lag=0); repeatable",
    )
    dc = serve.add_argument_group("Data Center sites (--seed dc-demo or dc-synthetic:...)")
    dc.add_argument("--dc-version", help="version the site reports; below 9.1 there is no REST "
                    "space-permission API, only JSON-RPC (default 9.2.5)")
    dc.add_argument("--context-path", help="serve under this path, e.g. /confluence (dc-demo's default)")
    dc.add_argument("--no-remote-api", action="store_true", help="turn the Remote API (JSON-RPC) off")
    dc.add_argument("--websudo", action="store_true",
                    help="secure administrator sessions: admin JSON-RPC calls get the HTML login page")
    dc.add_argument("--non-admin-status", type=int, choices=(403, 500), default=500,
                    help="status a caller who is not a space admin gets (500: CONFSERVER-99908)")
    dc.add_argument("--block-user", action="append", default=[], metavar="USERNAME",
                    help="the rate limiter blocks this user (Retry-After 9223372036854775807)")
    serve.set_defaults(func=run, action="serve")


def sub_actions(parser: argparse.ArgumentParser) -> Any:
    return parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))


def _missing_action(args: argparse.Namespace) -> int:
    raise UsageError("reconciler sandbox: choose an action: serve, reset or show")


def state_dir(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> Path:
    """``--state-dir``, else ``RECONCILER_SANDBOX_DIR``, else the default: the client's own order."""
    from reconciler.flows.connect import sandbox_state_dir  # noqa: PLC0415

    if args.state_dir is not None:
        return Path(args.state_dir)
    return sandbox_state_dir(env)


def run(args: argparse.Namespace) -> int:
    args.state_dir = state_dir(args)
    try:
        if _is_dc(args):
            return _run_dc(args)
        if args.action == "serve":
            return _serve(args)
        if args.action == "reset":
            path = reset_site(args.name, args.state_dir)
            sys.stdout.write(f"reset sandbox '{args.name}' from its seed ({path})\n")
            return int(ExitCode.OK)
        path = state_path(args.name, args.state_dir)
        site = open_site(args.name, args.state_dir) if path.exists() else Site(seed_state(args.name))
        sys.stdout.write(summarize(site.state))
        return int(ExitCode.OK)
    except ValueError as err:
        raise UsageError(str(err)) from err


def _is_dc(args: argparse.Namespace) -> bool:
    if args.action == "serve":
        return bool(is_dc_seed(args.seed) or (args.name and is_datacenter(args.name, args.state_dir)))
    return bool(is_datacenter(args.name, args.state_dir))


def _knobs(args: argparse.Namespace) -> Knobs:
    kinds = tuple(k for k in args.fault_kinds.split(",") if k)
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        raise UsageError(
            f"--fault-kinds: unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULT_KINDS)}"
        )
    if not 0.0 <= args.fault_rate <= 1.0:
        raise UsageError("--fault-rate must be between 0 and 1")
    knobs = Knobs(
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        burst=args.burst,
        retry_after_s=args.retry_after,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        fault_kinds=kinds,
        slow_ms=args.slow_ms,
        read_lag_ms=args.read_lag_ms,
        hidden_spaces=frozenset(args.hide_space),
    )
    return _named_knobs(knobs, args.knob)


def _named_knobs(knobs: Knobs, settings: list[str]) -> Knobs:
    """``--knob NAME=VALUE`` (VALUE in JSON; a bare word is a string), applied over the other flags."""
    changes: dict[str, object] = {}
    for setting in settings:
        name, sep, raw = setting.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--knob {setting}: expected NAME=VALUE, e.g. last_admin_guard=false")
        try:
            changes[name.strip()] = json.loads(raw)
        except ValueError:
            changes[name.strip()] = raw
    try:
        return knobs_with(knobs, changes)
    except (ValueError, TypeError) as err:
        known = ", ".join(Knobs().describe())
        raise UsageError(f"--knob: {err}; known knobs: {known}") from None


def _serve(args: argparse.Namespace) -> int:
    knobs = _knobs(args)
    if args.name:
        site = open_site(args.name, args.state_dir, knobs, seed=args.seed)
    else:
        site = Site(seed_state(args.seed), knobs)
    admin = site.state.users[SVC_ACCOUNT_ID]
    if args.admin_email:
        admin.email = args.admin_email
    if args.admin_token:
        admin.api_token = args.admin_token
    server = start_server(site, args.host, args.port)
    return _serve_until_stopped(server, [
        f"sandbox '{site.name}' serving at {server.url}  (Ctrl-C to stop)",
        f"  CONFLUENCE_URL={server.url}",
        f"  CONFLUENCE_EMAIL={admin.email}",
        f"  CONFLUENCE_API_TOKEN={admin.api_token}   (a fake sandbox token, not a secret)",
        f"  gateway (Bearer): {server.url}/ex/confluence/{site.state.cloud_id}",
        f"  ATLASSIAN_ADMIN_API_KEY={site.state.admin_api_key}   (org {site.state.org_id})",
        f"  counters: {server.url}/_sandbox/counters",
    ])


def _serve_until_stopped(server: RunningServer, banner: list[str]) -> int:
    """Print ``banner`` (one line each), serve until Ctrl-C, then stop the server."""
    out = sys.stdout
    out.write("".join(f"{line}\n" for line in banner))
    out.flush()
    try:
        server.wait()
    except KeyboardInterrupt:
        out.write("stopping\n")
    finally:
        server.stop()
    return int(ExitCode.OK)


# ------------------------------------------------------------------------ Data Center sites (--seed dc-demo)

def _run_dc(args: argparse.Namespace) -> int:
    if args.action == "serve":
        return _serve_dc(args)
    if args.action == "reset":
        path = reset_dc_site(args.name, args.state_dir)
        sys.stdout.write(f"reset Data Center sandbox '{args.name}' from its seed ({path})\n")
        return int(ExitCode.OK)
    path = state_path(args.name, args.state_dir)
    sys.stdout.write(_summarize_dc(read_dc_state(path) if path.exists() else dc_seed_state(args.name)))
    return int(ExitCode.OK)


def _summarize_dc(state: DcState) -> str:
    lines = [(f"Data Center sandbox '{state.name}': version {state.version}, context path "
             f"'{state.context_path or '/'}', {len(state.spaces)} spaces, {len(state.users)} users, "
             f"{len(state.groups)} groups, {len(state.permissions)} space permissions")]
    for key in sorted(state.spaces):
        subjects = {subj for (s, subj, _) in state.permissions if s == key}
        lines.append(f"  {key}: {len(subjects)} subjects")
    return "\n".join(lines) + "\n"


def _serve_dc(args: argparse.Namespace) -> int:
    knobs = DcKnobs(latency_ms=args.latency_ms, rate_limit=args.rate_limit, burst=args.burst,
                    fault_rate=args.fault_rate, fault_seed=args.fault_seed,
                    non_admin_status=args.non_admin_status, blocked_users=frozenset(args.block_user))
    if not 0.0 <= args.fault_rate <= 1.0:
        raise UsageError("--fault-rate must be between 0 and 1")
    try:
        site = (open_dc_site(args.name, args.state_dir, knobs, seed=args.seed) if args.name
                else DcSite(dc_seed_state(args.seed), knobs))
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
    basic = f"CONFLUENCE_USERNAME={admin.username} CONFLUENCE_PASSWORD={admin.password}"
    return _serve_until_stopped(server, [
        f"Data Center sandbox '{site.name}' (Confluence {version}) serving at {url}  (Ctrl-C to stop)",
        f"  CONFLUENCE_URL={url}",
        f"  CONFLUENCE_PAT={admin.pat}   (a fake sandbox token, not a secret)",
        f"  (or Basic auth: {basic})",
        f"  requests: {server.url}/_sandbox/requests",
        f"  counters: {server.url}/_sandbox/counters",
    ])
