"""Writing data security policies through the documented lifecycle, one rule at a time.

The cookbook's flow (developer.atlassian.com/cloud/admin/cookbook-dsp, 2026-02-26): 1) an ORG draft for
the rule if none exists, 2) the overrides as drafts, 3) resources added, 4) read back, 5) publish with
``publishDraftPolicies``. For one rule, ``RuleWriter.apply`` does:

1. **Re-read** the rule's policies. A published policy that no longer says what the plan saw (changed by
   an admin since) refuses the whole rule (``StalePlanError`` text); other rules go on.
2. **Drafts, ORG first**: a draft of the same rule, level and subject that is already on the org (an
   interrupted run's, or an admin's) is adopted and updated, never duplicated (the API allows one:
   "Redundant draft override rule found"); otherwise a draft is created. Its resources (spaces) are then
   made equal to the target, one request each.
3. **One publish** for every draft of the rule; then the deletions (v1 DELETE), so nothing unblocks early.
4. **Verify**: a re-read must show every target published and every deletion gone.

A write whose outcome is unknown (no answer, 5xx, 429) is settled by a re-read and never repeated blind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from reconciler.backend import PolicyStep
from reconciler.confluence import app_policy_wire as wire
from reconciler.confluence.admin import AdminApi, SiteLookup, read_policies
from reconciler.errors import ApiError, NotFoundError, PolicyError, Problem, TransportError
from reconciler.model import ORG, DataSecurityPolicy, DsRule, Effect, OrgPolicies


class RuleRefused(Exception):  # noqa: N818 - internal signal: every step of the rule fails with this reason
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def stale_message(rule: DsRule) -> str:
    return (
        f"data security rule {rule.value} changed on the org since the plan was made; nothing of it was "
        "written; run `reconciler plan` again"
    )


def _unknown(err: ApiError) -> bool:
    return isinstance(err, TransportError) or err.status is None or err.status >= 500 or err.status == 429


@dataclass
class RuleWriter:
    """Applies the plan's steps of one org, rule by rule (apply's ``AppPolicyWriter``)."""

    api: AdminApi
    lookup: SiteLookup
    progress: Callable[[str], None] = lambda _message: None
    writes: int = 0

    def apply_rule(self, rule: DsRule, steps: Sequence[PolicyStep]) -> list[str | None]:
        """One result per step: None when done (and verified), else why it failed."""
        try:
            self._apply(rule, steps)
        except RuleRefused as refused:
            return [refused.reason] * len(steps)
        except (ApiError, PolicyError) as err:
            unknown = (
                " (outcome unknown: the next run re-reads the org and adopts its drafts)"
                if isinstance(err, ApiError) and _unknown(err)
                else ""
            )
            return [f"{err}{unknown}"] * len(steps)
        return self._verify(rule, steps)

    # ---------------------------------------------------------------------------------------- steps

    def _apply(self, rule: DsRule, steps: Sequence[PolicyStep]) -> None:
        org = self._read(rule)
        published = _published(org)
        drafts = {p.key: p for p in org.policies if p.status == wire.STATUS_DRAFT}
        for step in steps:
            self._check_fresh(rule, step, published)
        targets = [
            step.new
            for step in steps
            if step.new is not None and not any(_shows(p, step.new) for p in published.get(step.new.key, []))
        ]
        targets.sort(key=lambda p: (p.coverage != ORG, p.subject))
        ids = [self._draft(target, drafts.get(target.key)) for target in targets]
        if ids:
            self.progress(f"data security {rule.value}: publishing {len(ids)} draft(s)")
            self._write(
                lambda: self.api.publish(wire.publish_body(rule, ids)),
                lambda: all(
                    p.status == wire.STATUS_PUBLISHED for p in self._read(rule).policies if p.id in ids
                ),
            )
        for step in steps:
            if step.new is None and step.policy.id is not None:
                self._delete(rule, step.policy.id)

    def _check_fresh(
        self,
        rule: DsRule,
        step: PolicyStep,
        published: Mapping[tuple[str, str, str], list[DataSecurityPolicy]],
    ) -> None:
        """Refuse the rule when the org's published policy is neither what the plan saw nor the target."""
        new, old = step.new, step.existing
        current = published.get(step.policy.key, [])
        if old is None:
            if current and not (new is not None and _shows(current[0], new)):
                raise RuleRefused(stale_message(rule))
            return
        now = next((p for p in current if p.id == old.id), None)
        if new is None:
            if now is not None and not _same(now, old):
                raise RuleRefused(stale_message(rule))
            return
        as_planned = now is not None and (_same(now, old) or _shows(now, new))
        if not as_planned and not any(_shows(p, new) for p in current):
            raise RuleRefused(stale_message(rule))

    def _draft(self, target: DataSecurityPolicy, draft: DataSecurityPolicy | None) -> str:
        """The id of a draft that says ``target``, with its resources: the org's draft adopted, or a new
        one."""
        body = wire.policy_body(target, target.name or f"{target.rule.value} {target.coverage}")
        if draft is not None and draft.id is not None:
            policy_id = draft.id
            if draft.effect is not target.effect:
                self.progress(f"data security {target.rule.value}: updating the draft {policy_id}")
                self._write(
                    lambda: self.api.update(policy_id, body),
                    lambda: _effect_of(self.api.get(policy_id)) is target.effect,
                )
        else:
            self.progress(f"data security {target.rule.value}: creating a {target.coverage} draft")
            policy_id = self._create(target, body)
        if target.coverage != ORG:
            self._resources(target, policy_id)
        return policy_id

    def _create(self, target: DataSecurityPolicy, body: Mapping[str, Any]) -> str:
        self.writes += 1
        try:
            return str(self.api.create(body).get("id") or "")
        except ApiError as err:
            if not _unknown(err):
                raise
            found = next(
                (
                    p
                    for p in self._read(target.rule).policies
                    if p.key == target.key and p.status == wire.STATUS_DRAFT
                ),
                None,
            )
            if found is None or found.id is None:
                raise
            return found.id

    def _resources(self, target: DataSecurityPolicy, policy_id: str) -> None:
        wanted = self._aris(target)
        have = set(self.api.resources(policy_id))
        for ari in sorted(set(wanted) - have):
            self._write(partial(self.api.add_resource, policy_id, ari),
                        partial(_listed, self.api, policy_id, ari, True))
        for ari in sorted(have - set(wanted)):
            self._write(partial(self.api.remove_resource, policy_id, ari),
                        partial(_listed, self.api, policy_id, ari, False))

    def _delete(self, rule: DsRule, policy_id: str) -> None:
        self.progress(f"data security {rule.value}: deleting {policy_id}")
        try:
            self._write(
                lambda: self.api.delete(policy_id),
                lambda: all(p.id != policy_id for p in self._read(rule).policies),
            )
        except NotFoundError:
            return

    def _write(self, write: Callable[[], None], happened: Callable[[], bool]) -> None:
        """One write; an unknown outcome is settled by ``happened`` (a re-read), never by repeating it."""
        self.writes += 1
        try:
            write()
        except ApiError as err:
            if not _unknown(err) or not happened():
                raise

    def _aris(self, target: DataSecurityPolicy) -> list[str]:
        ids = self.lookup.ids_for(target.spaces)
        missing = [k for k in target.spaces if not k.startswith("ari:") and k not in ids]
        if missing:
            src = target.source
            raise PolicyError(
                [
                    Problem(
                        src.file if src else "policies",
                        src.line if src else 0,
                        src.column if src else 0,
                        f"data security: space {', '.join(missing)} is not on the site",
                        path="data_security",
                    )
                ]
            )
        cloud_id = self.lookup.cloud_id()
        return [k if k.startswith("ari:") else wire.space_ari(cloud_id, ids[k]) for k in target.spaces]

    def _read(self, rule: DsRule) -> OrgPolicies:
        org = read_policies(self.api, self.lookup)
        return OrgPolicies(tuple(p for p in org.policies if p.rule is rule), org.unread)

    # --------------------------------------------------------------------------------------- verify

    def _verify(self, rule: DsRule, steps: Sequence[PolicyStep]) -> list[str | None]:
        try:
            published = _published(self._read(rule))
        except ApiError as err:
            return [f"written, but the re-read to verify failed: {err}"] * len(steps)
        results: list[str | None] = []
        for step in steps:
            new = step.new
            if new is not None:
                ok = any(_shows(p, new) for p in published.get(new.key, []))
                results.append(
                    None
                    if ok
                    else f"not visible after publishing: the org does not show "
                    f"{new.effect.value} {new.coverage} for {rule.value}"
                )
            else:
                old = step.policy  # a deletion: the existing policy
                gone = all(p.id != old.id for ps in published.values() for p in ps)
                results.append(None if gone else f"policy {old.id} is still published")
        return results


def _listed(api: AdminApi, policy_id: str, ari: str, wanted: bool) -> bool:
    """Whether a re-read of the policy's resources shows ``ari`` (``wanted``) or not."""
    return (ari in api.resources(policy_id)) is wanted


def _published(org: OrgPolicies) -> dict[tuple[str, str, str], list[DataSecurityPolicy]]:
    published: dict[tuple[str, str, str], list[DataSecurityPolicy]] = {}
    for policy in sorted(org.policies, key=lambda p: p.id or ""):
        if policy.status == wire.STATUS_PUBLISHED:
            published.setdefault(policy.key, []).append(policy)
    return published


def _shows(live: DataSecurityPolicy | None, target: DataSecurityPolicy) -> bool:
    """Whether a live policy already says what ``target`` says (effect and spaces)."""
    return live is not None and live.effect is target.effect and set(live.spaces) == set(target.spaces)


def _same(live: DataSecurityPolicy, seen: DataSecurityPolicy) -> bool:
    return live.effect is seen.effect and set(live.spaces) == set(seen.spaces)


def _effect_of(item: Mapping[str, Any]) -> Effect | None:
    parsed = wire.read_policy(item)
    return parsed.effect if isinstance(parsed, DataSecurityPolicy) else None
