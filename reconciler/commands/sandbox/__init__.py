"""`reconciler sandbox serve|reset|show`: run, reset and inspect simulated Confluence Cloud and Data Center
sites.

See docs/commands/sandbox.md and docs/sandbox.md. This module only builds the parser: every command's
parser is built on every run, so the sandbox itself (50-60 ms of imports, httpx with it) is imported by
``actions.py`` only when a sandbox command runs (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import UsageError

# the sandbox's fault kinds (sandbox/faults.py FAULT_KINDS, which a test keeps equal), named here for --help
FAULT_KINDS_SHOWN = ("500", "502", "503", "drop", "slow")

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
        default=",".join(FAULT_KINDS_SHOWN),
        help=f"comma-separated faults to draw from (default {','.join(FAULT_KINDS_SHOWN)})",
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
    serve.add_argument("--request-log", type=Path, default=None, metavar="FILE",
                       help="append a line per API request answered: arrival and answer times (time.time()), "
                       "method, path without the query, status (benchmarks/process_bench.py reads it)")
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
    from reconciler.commands.sandbox.actions import run as run_sandbox  # noqa: PLC0415 - start-up (docstring)

    return run_sandbox(args)
