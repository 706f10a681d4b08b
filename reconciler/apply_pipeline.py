"""The IO around apply: load the policy, open ONE client (reads and writes share it), plan, apply.

``reconciler apply`` calls these: ``open_apply`` then either ``plan_for_apply`` (a policy directory) or
``load_saved_plan`` (a plan file), then ``reconciler.apply.apply_plan`` with the session's reader and
writer. App-policy changes go through helper A's ``reconciler.confluence.admin.AdminWriter`` when that
module is installed and an Admin API client can be opened; otherwise they are reported as skipped.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.apply_ports import AppPolicyWriter, Reader, Writer
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.session import open_client
from reconciler.confluence.write import ConfluenceReader, ConfluenceWriter
from reconciler.errors import PlanFileError, StalePlanError
from reconciler.model import DesiredState, LiveState
from reconciler.plan.changes import ChangeKind, Plan

if TYPE_CHECKING:
    import httpx

POLICY_CHANGED = "the policy changed since this plan was made; run `reconciler plan` again"
APP_KINDS = {ChangeKind.CREATE_APP_POLICY, ChangeKind.UPDATE_APP_POLICY, ChangeKind.DELETE_APP_POLICY}


@dataclass
class ApplySession:
    desired: DesiredState
    client: ConfluenceClient
    reader: Reader
    writer: Writer
    app_writer_factory: Callable[[], AppPolicyWriter | None]

    def close(self) -> None:
        self.client.close()


def open_apply(
    policy_dir: Path | str,
    *,
    env: Mapping[str, str] = os.environ,
    progress: Callable[[str], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    client_factory: Callable[[DesiredState], ConfluenceClient] | None = None,
) -> ApplySession:
    """Load the policy and open one read-write client.

    ``transport`` replaces the network, ``client_factory`` the whole client (tests, benchmarks).
    """
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `apply --help` light

    desired = load_policy(policy_dir)
    if client_factory is not None:
        client = client_factory(desired)
    else:
        client = open_client(desired.site.url, read_only=False, env=env, transport=transport)
    reader = ConfluenceReader(client, desired, progress=progress)
    return ApplySession(
        desired=desired,
        client=client,
        reader=reader,
        writer=ConfluenceWriter(client),
        app_writer_factory=lambda: _app_writer(desired, env),
    )


def plan_for_apply(session: ApplySession, *, scope: Sequence[str] = ()) -> tuple[LiveState, Plan]:
    """Read the live state and plan it, with the safety findings, as ``reconciler plan`` does."""
    from reconciler.plan.diff import build_plan  # noqa: PLC0415 - plan modules are helper L's
    from reconciler.plan.safety import check_plan  # noqa: PLC0415

    live = session.reader.read(scope)
    plan = build_plan(session.desired, live, scope=scope)
    plan = replace(plan, findings=check_plan(plan, session.desired, live))
    return live, plan


def load_saved_plan(path: Path, desired: DesiredState) -> Plan:
    """The plan in ``path``; refused (stale) when the policy it was made from has changed."""
    from reconciler.plan.planfile import load_plan  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PlanFileError(f"{path}: cannot read the plan file: {err.strerror or err}") from None
    plan = load_plan(text)
    if plan.policy_digest != desired.digest:
        raise StalePlanError(POLICY_CHANGED)
    return plan


def needs_app_writer(plan: Plan) -> bool:
    return any(change.kind in APP_KINDS for change in plan.changes)


def _app_writer(desired: DesiredState, env: Mapping[str, str]) -> AppPolicyWriter | None:
    """Helper A's ``AdminWriter`` over an Admin API client, or None when it is not available."""
    try:
        module: Any = importlib.import_module("reconciler.confluence.admin")
    except ImportError:
        return None
    factory = getattr(module, "open_admin_writer", None)
    if factory is not None:
        writer: AppPolicyWriter | None = factory(desired, env=env)
        return writer
    cls = getattr(module, "AdminWriter", None)
    if cls is None or desired.app_access is None:
        return None
    admin_client = open_client(desired.site.url, read_only=False, env=env, admin=True)
    built: AppPolicyWriter = cls(admin_client, desired.app_access.org_id)
    return built
