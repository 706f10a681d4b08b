"""The IO around apply: load the policy, open ONE client (reads and writes share it), plan, apply.

``reconciler apply`` calls these: ``open_apply`` then either ``plan_for_apply`` (a policy directory) or
``load_saved_plan`` (a plan file), then ``reconciler.apply.apply_plan`` with the session's reader and
writer. Planning goes through ``reconciler.pipeline`` (``app_policy_notes``, ``with_app_policies``,
``plan_from_live``), the same pieces ``reconciler plan`` uses, so a plan saved by ``reconciler plan`` has
the fingerprint apply's re-read computes and ``apply POLICY_DIR`` prints the same plan.
Data security changes go through ``reconciler.confluence.admin_apply.RuleWriter``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.apply.ports import AppPolicyWriter, Reader, Writer
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.session import open_client
from reconciler.confluence.write import ConfluenceReader, ConfluenceWriter
from reconciler.errors import PlanFileError, StalePlanError
from reconciler.model import DesiredState, LiveState
from reconciler.pipeline import app_policy_notes, display_url, plan_from_live, site_url, with_app_policies
from reconciler.plan.changes import AppPolicyChange
from reconciler.plan.plan import Plan

if TYPE_CHECKING:
    import httpx

POLICY_CHANGED = "the policy changed since this plan was made; run `reconciler plan` again"


@dataclass
class ApplySession:
    desired: DesiredState
    client: ConfluenceClient
    reader: Reader
    writer: Writer
    env: Mapping[str, str]
    transport: httpx.BaseTransport | None = None
    state_dir: Path | None = None
    notes: tuple[str, ...] = ()  # why data security is not planned, as `reconciler plan` says it
    progress: Callable[[str], None] | None = None  # the data security writer's steps (drafts, publish)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def app_writer(self, plan: Plan) -> AppPolicyWriter | None:
        """The data security ``RuleWriter`` when the plan has data security changes (they were planned,
        so the Admin API is reachable); None otherwise."""
        if not any(isinstance(change, AppPolicyChange) for change in plan.changes):
            return None
        from reconciler.confluence.admin import SiteLookup, open_admin_api, org_id_of  # noqa: PLC0415
        from reconciler.confluence.admin_apply import RuleWriter  # noqa: PLC0415 - only with data security

        url = self.desired.site.url
        api = open_admin_api(url, org_id_of(self.desired), read_only=False, env=self.env,
                             transport=self.transport, state_dir=self.state_dir)
        ids = {space.key: space.id for space in plan.spaces}
        lookup = SiteLookup(url, self.env, ids, transport=self.transport, state_dir=self.state_dir)
        self._closers.extend((api.close, lookup.close))
        return RuleWriter(api, lookup, progress=self.progress or (lambda _message: None))

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self.client.close()


def open_apply(
    policy_dir: Path | str,
    *,
    env: Mapping[str, str] = os.environ,
    progress: Callable[[str], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
    client_factory: Callable[[DesiredState], ConfluenceClient] | None = None,
) -> ApplySession:
    """Load the policy and open one read-write client.

    ``transport``/``state_dir`` replace the network and the sandbox directory, ``client_factory`` the whole
    client (tests, benchmarks).
    """
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `apply --help` light

    desired = load_policy(policy_dir)
    if client_factory is not None:
        client = client_factory(desired)
    else:
        client = open_client(desired.site.url, read_only=False, env=env, transport=transport,
                             state_dir=state_dir)
    notes = app_policy_notes(desired, env)
    whole_scope = None
    if desired.data_security is not None and not notes:
        def whole_scope(live: LiveState) -> LiveState:
            return with_app_policies(desired, live, env, transport=transport, state_dir=state_dir)

    reader = ConfluenceReader(client, desired, progress=progress, whole_scope=whole_scope)
    return ApplySession(desired=desired, client=client, reader=reader, writer=ConfluenceWriter(client),
                        env=env, transport=transport, state_dir=state_dir, notes=notes, progress=progress)


def plan_for_apply(session: ApplySession, *, scope: Sequence[str] = ()) -> tuple[LiveState, Plan]:
    """Read the live state and plan it with the safety findings, exactly as ``reconciler plan`` does."""
    live = session.reader.read(scope)
    return live, _plan_of(session, live, scope)


def _plan_of(session: ApplySession, live: LiveState, scope: Sequence[str]) -> Plan:
    notes = app_policy_notes(session.desired, session.env, scope)
    return plan_from_live(session.desired, live, session.env, scope=scope, notes=notes)


def seal(session: ApplySession, saved: Plan) -> tuple[LiveState, Plan]:
    """The plan to apply for a saved plan: recomputed from the policy and a fresh read, and refused before
    any write unless it is exactly the saved one (``plan/seal.py``, docs/safety.md "A saved plan is sealed").

    Refused, in this order: a plan made for another site (before any request), a stale plan (the live
    state changed), a plan whose contents differ from what the policy and the live state give (edited by
    hand, or made by another version), naming the first difference.
    """
    from reconciler.apply import check_fresh  # noqa: PLC0415 - apply/__init__ imports this module's peers
    from reconciler.plan.seal import first_difference, refusal  # noqa: PLC0415

    target = display_url(site_url(session.desired, session.env))
    if saved.site != target:
        raise PlanFileError(f"this plan was made for {saved.site}, not for {target}, the site this run "
                            "would write to (CONFLUENCE_URL, else site.url); nothing was written")
    live = session.reader.read(saved.scope)
    check_fresh(saved, live)
    recomputed = _plan_of(session, live, saved.scope)
    difference = first_difference(saved, recomputed)
    if difference is not None:
        raise PlanFileError(refusal(difference))
    return live, recomputed


def load_saved_plan(path: Path, desired: DesiredState) -> Plan:
    """The plan in ``path``; refused (stale) when the policy it was made from has changed."""
    from reconciler.plan.planfile import load_plan  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PlanFileError(f"{path}: cannot read the plan file: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise PlanFileError(f"{path}: the plan file is not UTF-8 (byte 0x{err.object[err.start]:02x} at "
                            f"offset {err.start}); make it again with `reconciler plan --out`") from None
    plan = load_plan(text)
    if plan.policy_digest != desired.digest:
        raise StalePlanError(POLICY_CHANGED)
    return plan
