"""The IO around ``reconciler plan``: load the policy, read the site read-only, diff, check safety.

``run_plan`` = load_policy -> open_client(read_only=True) -> fetch_live -> (the org's app access
policies, when the policy has app access rules and the Admin API can be reached) -> build_plan ->
check_plan. Observation is all-or-nothing: any failed read raises, and there is no plan.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from reconciler.confluence.fetch import fetch_live
from reconciler.confluence.session import effective_site_url, open_client
from reconciler.model import DesiredState, LiveState
from reconciler.plan.diff import build_plan
from reconciler.plan.plan import Plan
from reconciler.plan.safety import check_plan

if TYPE_CHECKING:
    import httpx

Progress = Callable[[str], None]
ADMIN_KEY = "ATLASSIAN_ADMIN_API_KEY"
NOTE_NO_KEY = "app access policies not {verb}: set " + ADMIN_KEY + " to include them"
NOTE_SCOPED = "app access policies not {verb}: a --space plan leaves org-wide app policies out"


def run_plan(
    policy_dir: Path | str,
    *,
    spaces: Sequence[str] = (),
    env: Mapping[str, str] = os.environ,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> tuple[DesiredState, LiveState, Plan]:
    """Plan the policy in ``policy_dir`` against the live site (``spaces``: only these space keys).

    Never writes: the client is read-only, so any request other than GET raises before it is sent.
    ``transport`` and ``state_dir`` replace the network and the sandbox directory in tests.
    """
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `plan --help` light

    desired = load_policy(policy_dir)
    scope = tuple(dict.fromkeys(spaces))
    with open_client(desired.site.url, read_only=True, env=env, transport=transport,
                     state_dir=state_dir) as client:
        live = fetch_live(client, desired, spaces=scope, progress=progress)
    notes = app_policy_notes(desired, env, scope)
    if desired.app_access is not None and not notes:
        live = with_app_policies(desired, live, env, transport=transport, state_dir=state_dir,
                                 progress=progress)
    return desired, live, plan_from_live(desired, live, env, scope=scope, notes=notes)


def plan_from_live(
    desired: DesiredState,
    live: LiveState,
    env: Mapping[str, str],
    *,
    scope: Sequence[str] = (),
    notes: tuple[str, ...] = (),
) -> Plan:
    """The plan of ``live`` as every command shows it: the site's display URL, the plan's own notes plus
    ``notes``, and the safety findings. ``reconciler apply POLICY_DIR`` plans through this too, so a plan
    it prints is the plan ``reconciler plan`` would print."""
    plan = build_plan(desired, live, scope=scope)
    return dataclasses.replace(
        plan, site=display_url(site_url(desired, env)), notes=plan.notes + notes,
        findings=check_plan(plan, desired, live),
    )


def site_url(desired: DesiredState, env: Mapping[str, str]) -> str:
    """``CONFLUENCE_URL`` when set, else the policy's ``site.url``."""
    return effective_site_url(desired.site.url, env)


def app_policy_notes(
    desired: DesiredState, env: Mapping[str, str], scope: Sequence[str] = (), *, verb: str = "planned"
) -> tuple[str, ...]:
    """Why the org's app policies are left out (``verb``: "planned", or "checked" for drift); empty when
    they are read.

    They are read for a whole-policy plan with app access rules, on a sandbox site or with an Admin API key.
    """
    if desired.app_access is None:
        return ()
    if scope:
        return (NOTE_SCOPED.format(verb=verb),)
    if not site_url(desired, env).startswith("sandbox:") and not (env.get(ADMIN_KEY) or "").strip():
        return (NOTE_NO_KEY.format(verb=verb),)
    return ()


def with_app_policies(
    desired: DesiredState,
    live: LiveState,
    env: Mapping[str, str],
    *,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
    progress: Progress | None = None,
) -> LiveState:
    """``live`` with the org's app access policies read through the Admin API."""
    from reconciler.confluence.admin import fetch_app_policies  # noqa: PLC0415 - only with app access

    if progress:
        progress("reading the org's app access policies")
    ids = {key: space.info.id for key, space in live.spaces.items()}
    policies = fetch_app_policies(desired.site.url, desired, ids, env, transport=transport,
                                  state_dir=state_dir)
    return dataclasses.replace(live, app_policies=tuple(policies))


def display_url(url: str) -> str:
    """The site URL as plans show it: no user info, query or fragment (nothing secret ends up in a plan)."""
    url = url.strip()
    if url.startswith("sandbox:"):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
