"""The IO around ``reconciler plan``: load the policy, read the site read-only, diff, check safety.

``run_plan`` = load_policy -> open_client(read_only=True) -> fetch_live -> (the org's data security
policies, when the policy has a data_security section and the run does not leave it out) -> build_plan
(the changes and their safety assessment, in one pass). Observation is all-or-nothing: any failed read
raises, and there is no plan (a failed Admin API read is one line naming the call and the flag that
leaves data security out).
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
from reconciler.errors import ApiError, AuthError
from reconciler.model import DesiredState, LiveState
from reconciler.plan.diff import build_plan
from reconciler.plan.plan import Plan

if TYPE_CHECKING:
    import httpx

Progress = Callable[[str], None]
ADMIN_KEY = "ATLASSIAN_ADMIN_API_KEY"
SKIP_VARIABLE = "RECONCILER_SKIP_DATA_SECURITY"  # set by --skip-data-security (plan, apply, drift)
SKIP_FLAG = "--skip-data-security"
NOTE_NO_KEY = "data security not {verb}: set " + ADMIN_KEY + " to include it"
NOTE_SCOPED = "data security not {verb}: a --space plan leaves the org-wide controls out"
NOTE_SKIPPED = "data security not {verb}: left out by " + SKIP_FLAG + " (" + SKIP_VARIABLE + ")"
ADMIN_DOWN = ("; data security cannot be read: the Admin API is down or disabled (its policy operations are "
              "deprecated upstream and may be temporarily disabled); run again later, or leave data security "
              "out with " + SKIP_FLAG)
ADMIN_REFUSED = ("; data security cannot be read; check " + ADMIN_KEY + ", or leave data security out with "
                 + SKIP_FLAG)


def skipping(env: Mapping[str, str], skip: bool) -> Mapping[str, str]:
    """``env`` with ``SKIP_VARIABLE`` set when ``skip`` (the commands' ``--skip-data-security``)."""
    return {**env, SKIP_VARIABLE: "1"} if skip else env


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

    if progress:
        progress("loading the policy")
    desired = load_policy(policy_dir)
    scope = tuple(dict.fromkeys(spaces))
    with open_client(desired.site.url, read_only=True, env=env, transport=transport,
                     state_dir=state_dir) as client:
        client.on_wait = getattr(progress, "waiting", None)
        live = fetch_live(client, desired, spaces=scope, progress=progress)
    notes = app_policy_notes(desired, env, scope)
    if desired.data_security is not None and not notes:
        live = with_app_policies(desired, live, env, transport=transport, state_dir=state_dir,
                                 progress=progress)
    if progress:
        progress("planning")
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
    return build_plan(desired, live, scope=scope, site=display_url(site_url(desired, env)), notes=notes)


def site_url(desired: DesiredState, env: Mapping[str, str]) -> str:
    """``CONFLUENCE_URL`` when set, else the policy's ``site.url``."""
    return effective_site_url(desired.site.url, env)


def app_policy_notes(
    desired: DesiredState, env: Mapping[str, str], scope: Sequence[str] = (), *, verb: str = "planned"
) -> tuple[str, ...]:
    """Why the org's data security policies are left out (``verb``: "planned", or "checked" for drift);
    empty when they are read.

    They are read for a whole-policy plan with a data_security section, on a sandbox site or with an Admin
    API key, unless ``--skip-data-security`` (``RECONCILER_SKIP_DATA_SECURITY``) leaves them out.
    """
    if desired.data_security is None:
        return ()
    if (env.get(SKIP_VARIABLE) or "").strip() not in ("", "0"):
        return (NOTE_SKIPPED.format(verb=verb),)
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
    """``live`` with the org's data security policies read through the Admin API (a failed read raises,
    naming the call and ``--skip-data-security``)."""
    from reconciler.confluence.admin import read_data_security  # noqa: PLC0415 - only with data security

    if progress:
        progress("reading the org's data security policies")
    ids = {info.key: info.id for info in live.unmanaged}
    ids.update({key: space.info.id for key, space in live.spaces.items()})
    try:
        org = read_data_security(desired.site.url, desired, ids, env, transport=transport,
                                 state_dir=state_dir)
    except ApiError as err:
        hint = ADMIN_REFUSED if isinstance(err, AuthError) else ADMIN_DOWN
        raise type(err)(err.method, err.path, err.status, f"{err.detail}{hint}") from None
    return dataclasses.replace(live, data_security=org)


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
