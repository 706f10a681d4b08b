"""Running `reconciler sandbox serve|reset|show` (the parser is in ``__init__.py``, which imports this
module only when a sandbox command runs)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.commands.sandbox import state_dir
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


def run(args: argparse.Namespace) -> int:
    args.state_dir = state_dir(args)
    try:
        kind = _DATACENTER if _is_dc(args) else _CLOUD
        if args.action == "serve":
            return kind.serve(args)
        if args.action == "reset":
            path = kind.reset(args.name, args.state_dir)
            sys.stdout.write(f"reset {kind.label}sandbox '{args.name}' from its seed ({path})\n")
            return int(ExitCode.OK)
        sys.stdout.write(kind.show(args.name, args.state_dir))
        return int(ExitCode.OK)
    except ValueError as err:
        raise UsageError(str(err)) from err


@dataclass(frozen=True)
class _Kind:
    """What ``serve``, ``reset`` and ``show`` do for one kind of sandbox site (Cloud or Data Center)."""

    label: str  # "" or "Data Center ", as the reset line says it
    serve: Callable[[argparse.Namespace], int]
    reset: Callable[[str, Path], Path]
    show: Callable[[str, Path], str]  # the summary of the site saved in the state folder (or of its seed)


def _show_cloud(name: str, folder: Path) -> str:
    site = open_site(name, folder) if state_path(name, folder).exists() else Site(seed_state(name))
    return summarize(site.state)


def _show_dc(name: str, folder: Path) -> str:
    path = state_path(name, folder)
    return _summarize_dc(read_dc_state(path) if path.exists() else dc_seed_state(name))


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
    server = start_server(site, args.host, args.port, request_log=args.request_log)
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
    server = start_server(site, args.host, args.port, handler=handle, request_log=args.request_log)
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


_CLOUD = _Kind("", _serve, reset_site, _show_cloud)
_DATACENTER = _Kind("Data Center ", _serve_dc, reset_dc_site, _show_dc)
