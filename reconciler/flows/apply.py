"""``reconciler apply``: load the policy, open the site read-write ONCE, plan (or load a saved plan), apply.

``run_apply`` reads top to bottom: a saved plan (refused when the policy it was made from changed) or a
plan made exactly as ``reconciler plan`` makes it (``flows.plan.plan_from_live``, so the printed plan and
its fingerprint are the ones ``reconciler plan`` gives); the command shows it and asks for approval;
then ``reconciler.apply.apply_plan`` writes through the backend, data security changes through the org's
Admin API (opened only when the plan has some).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.apply import ApplyResult, apply_plan, check_fresh, refuse_unsafe
from reconciler.apply.ports import AppPolicyWriter
from reconciler.backend import Backend, Progress
from reconciler.errors import PlanFileError, StalePlanError, UsageError
from reconciler.flows.connect import Connection
from reconciler.flows.live import PolicyReader, app_policy_notes, org_id
from reconciler.flows.plan import nothing_planned, plan_from_live, scope_notes
from reconciler.live_state import LiveState
from reconciler.model import DesiredState
from reconciler.plan.changes import AppPolicyChange
from reconciler.plan.plan import Plan
from reconciler.plan.planfile import relocated
from reconciler.plan.seal import first_difference, refusal
from reconciler.plan.staleness import what_changed

POLICY_CHANGED = "the policy changed since this plan was made; run `reconciler plan` again"


class Approval(enum.Enum):
    GIVEN = "given"  # approved up front (--auto-approve, or nothing to change): the read is still current
    CONFIRMED = "confirmed"  # a person said yes after reading the plan: re-read before writing
    REFUSED = "refused"  # nothing is written


def run_apply(
    target: Path,
    connection: Connection,
    *,
    policy_dir: Path | str | None = None,
    allow_unsafe: bool = False,
    skip_data_security: bool = False,
    show: Callable[[Plan], None],
    approve: Callable[[Plan], Approval],
    progress: Progress | None = None,
    spaces: Sequence[str] = (),
) -> ApplyResult | None:
    """Apply the saved plan ``target`` (a ``.json`` file) or plan the policy directory ``target``, ``show``
    the plan and apply it once ``approve`` approves (a safe plan only); None when it refused.
    ``policy_dir``: the policy a saved plan was made from (default: policies). ``spaces``: plan and apply
    only these spaces of a policy directory (a saved plan keeps the scope it was made with)."""
    if spaces and is_saved_plan(target):
        raise UsageError("--space applies to a policy directory; a saved plan keeps the scope it was made "
                         "with (make it with `reconciler plan --space ... --out`)")
    if policy_dir is None and is_saved_plan(target):
        policy_dir = saved_policy_dir(target)
    site = open_policy_site(policy_dir or ("policies" if is_saved_plan(target) else target), connection,
                            skip_data_security=skip_data_security, progress=progress)
    live: LiveState | None
    if is_saved_plan(target):  # sealed: applied only if the policy and a fresh read give exactly this plan
        saved = load_saved_plan(target, site.desired)
        if nothing_planned(saved):  # a --changed-since plan that reached no space: no read, no write
            site.check_site(saved)
            return ApplyResult(site=saved.site, mode=saved.mode, results=())
        live, plan = site.seal(saved)
    else:
        live, plan = site.plan(tuple(dict.fromkeys(spaces)))
        show(plan)
        approval = Approval.GIVEN  # nothing to change: an empty apply report, so scripts always get one
        if plan.changes:
            refuse_unsafe(plan.findings, allow_unsafe=allow_unsafe)
            approval = approve(plan)
        if approval is Approval.REFUSED:
            return None
        if approval is Approval.CONFIRMED:
            live = None
    return apply_plan(
        plan, site.desired, reader=site.reader, writer=site.backend.writer,
        app_writer=site.app_writer(plan), allow_unsafe=allow_unsafe, live=live, progress=progress,
        map_spaces=site.backend.map_spaces,
    )


def saved_policy_dir(plan_file: Path) -> Path | None:
    """The policy directory a saved plan recorded (``policy_dir``, relative to the repository root), found
    from the current directory's repository, the plan file's, or the current directory; None when the
    plan recorded none or it is in none of them (then ``policies``, as before)."""
    import json  # noqa: PLC0415

    from reconciler.policy.at_ref import repository_root  # noqa: PLC0415

    try:
        recorded = json.loads(plan_file.read_text(encoding="utf-8")).get("policy_dir")
    except (OSError, ValueError, AttributeError):
        return None  # load_saved_plan says what is wrong with the file
    if not isinstance(recorded, str) or not recorded:
        return None
    bases = (repository_root(Path.cwd()), repository_root(plan_file.resolve().parent), Path.cwd())
    return next((base / recorded for base in bases if base is not None and (base / recorded).is_dir()), None)


def is_saved_plan(target: Path) -> bool:
    return target.suffix == ".json" or target.is_file()


@dataclass
class PolicySite:
    """A policy and the site it manages, opened read-write: what apply reads, plans and writes through."""

    desired: DesiredState
    backend: Backend
    reader: PolicyReader
    connection: Connection
    notes: tuple[str, ...] = ()  # why data security is not planned, as `reconciler plan` says it
    skip_data_security: bool = False
    progress: Progress | None = None  # the data security writer's steps (drafts, publish)

    def plan(self, scope: Sequence[str] = ()) -> tuple[LiveState, Plan]:
        """Read the live state and plan it with the safety findings, exactly as ``reconciler plan`` does."""
        live = self.reader.read(scope)
        return live, self._plan_of(live, scope)

    def _plan_of(self, live: LiveState, scope: Sequence[str], carried: tuple[str, ...] = ()) -> Plan:
        """``carried``: a saved ``--changed-since`` plan's scope notes, placed as ``reconciler plan`` does."""
        notes = carried + app_policy_notes(self.desired, self.connection, scope, skip=self.skip_data_security)
        return plan_from_live(self.desired, live, self.connection, scope=scope, notes=notes)

    def check_site(self, saved: Plan) -> None:
        """Refuse, before any request, a plan made for another site than the one this run would write to."""
        target = self.connection.display_url(self.desired.site.url)
        if saved.site != target:
            raise PlanFileError(f"this plan was made for {saved.site}, not for {target}, the site this run "
                                "would write to (CONFLUENCE_URL, else site.url); nothing was written")

    def seal(self, saved: Plan) -> tuple[LiveState, Plan]:
        """The plan to apply for a saved plan: recomputed from the policy and a fresh read, and refused
        before any write unless it is exactly the saved one (``plan/seal.py``, docs/safety.md "A saved plan
        is sealed").

        Refused, in this order: a plan made for another site (before any request), a stale plan (the live
        state changed), a plan whose contents differ from what the policy and the live state give (edited
        by hand, or made by another version), naming the first difference.
        """
        self.check_site(saved)
        live = self.reader.read(saved.scope)
        recomputed = self._plan_of(live, saved.scope, scope_notes(saved.notes))
        try:
            check_fresh(saved, live)
        except StalePlanError as stale:  # say what changed (plan/staleness.py)
            detail = what_changed(saved, recomputed)
            raise StalePlanError(str(stale).replace("; run", f" ({detail}); run", 1)) from None
        if saved.policy_dir:  # the files the plan names, relative to the repository as in the plan file
            recomputed = dataclasses.replace(relocated(recomputed, self.desired.policy_dir, saved.policy_dir),
                                             policy_dir=saved.policy_dir)
        difference = first_difference(saved, recomputed)
        if difference is not None:
            raise PlanFileError(refusal(difference))
        return live, recomputed

    def app_writer(self, plan: Plan) -> AppPolicyWriter | None:
        """The org's data security writer when the plan has data security changes (they were planned, so
        the Admin API is reachable); None otherwise."""
        if not any(isinstance(change, AppPolicyChange) for change in plan.changes):
            return None
        known = {space.key: space.id for space in plan.spaces}
        org = self.backend.data_security(org_id(self.desired), known)
        return None if org is None else org.writer(self.progress)


def open_policy_site(policy_dir: Path | str, connection: Connection, *, skip_data_security: bool = False,
                     progress: Progress | None = None) -> PolicySite:
    """Load the policy and open its site read-write (one client for reads and writes)."""
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `apply --help` light

    desired = load_policy(policy_dir)
    backend = connection.open(desired.site.url, read_only=False, platform=desired.site.platform,
                              jsonrpc=desired.site.allow_jsonrpc,
                              detect=desired.site.platform_auto)
    notes = app_policy_notes(desired, connection, skip=skip_data_security)
    reader = PolicyReader(backend, desired, app_policies=desired.data_security is not None and not notes,
                          progress=progress)
    return PolicySite(desired, backend, reader, connection, notes, skip_data_security, progress)


def load_saved_plan(path: Path, desired: DesiredState) -> Plan:
    """The plan in ``path``; refused (stale) when the policy it was made from has changed."""
    from reconciler.plan.planfile import read_plan_file  # noqa: PLC0415

    plan = read_plan_file(path)
    if plan.policy_digest != desired.digest:
        raise StalePlanError(POLICY_CHANGED)
    return plan
