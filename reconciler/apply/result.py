"""What an apply did: each planned change done, failed (with the reason) or skipped; what did not converge.

The JSON form of an apply report comes from these dataclasses (``result_to_dict``), not from a template.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.plan.changes import AppPolicyChange, AssignmentChange, Change, ChangeKind, RoleChange
from reconciler.plan.data_security import control_label

RESULT_FORMAT_VERSION = 1


class Status(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """The outcome of one planned change."""

    change: Change
    status: Status
    reason: str = ""  # why it failed or was skipped; for done changes, how ("already in place")


@dataclass(frozen=True, slots=True)
class NotConverged:
    """A touched space (or ``site`` for roles) whose re-read still differs from what apply wrote."""

    space: str
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    site: str
    mode: str
    results: tuple[ChangeResult, ...]  # in the plan's order
    not_converged: tuple[NotConverged, ...] = ()
    writes: int = 0  # write calls made (role-assignment POSTs, v1 adds and deletes, role writes)
    writes_by_space: Mapping[str, int] = field(default_factory=dict)
    rereads: int = 0  # re-reads of a space after a write whose outcome was unknown
    verify_rounds: int = 0  # verification reads until every touched space converged (or the bound)

    def _with(self, status: Status) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.status is status)

    @property
    def done(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.DONE)

    @property
    def failed(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.FAILED)

    @property
    def skipped(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.SKIPPED)

    @property
    def ok(self) -> bool:
        """Everything done and verified: the exit code is 0 only then."""
        return not self.failed and not self.skipped and not self.not_converged


def describe(change: Change) -> str:
    """One line naming a change, as reports show it: ``ENG group:engineering: Viewer -> Collaborator``."""
    kind = change.kind
    verb = kind.name.split("_", 1)[0].lower()
    if isinstance(change, RoleChange):
        return f"{verb} role {change.name}"
    if isinstance(change, AppPolicyChange):
        policy = change.policy
        return f"{verb} data security policy {control_label(policy.rule, policy.subject)} ({policy.coverage})"
    who = change.principal.display
    if isinstance(change, AssignmentChange):
        what = {
            ChangeKind.ASSIGN: f"{change.role}",
            ChangeKind.REASSIGN: f"{change.old_role} -> {change.role}",
        }.get(kind, f"{change.old_role} removed")
    else:
        what = f"{verb} {change.permission}"
    return f"{change.space} {who}: {what}"


def change_to_dict(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": change.kind.name.lower(), "symbol": change.kind.symbol}
    if isinstance(change, RoleChange):
        out["role_name"] = change.name
    elif isinstance(change, AppPolicyChange):
        policy = change.policy
        out["data_security_policy"] = {"rule": policy.rule.value, "coverage": policy.coverage,
                                       "subject": policy.subject, "name": policy.name}
    else:
        if change.space:
            out["space"] = change.space
        out["principal"] = change.principal.ref
        out["principal_display"] = change.principal.display
        fields = ({"role": change.role, "old_role": change.before} if isinstance(change, AssignmentChange)
                  else {"permission": change.permission})
        out.update({name: value for name, value in fields.items() if value is not None})
    out["summary"] = describe(change)
    return out


def result_to_dict(result: ApplyResult) -> dict[str, Any]:
    """The JSON apply report (stable keys, plan order)."""

    def entry(r: ChangeResult) -> dict[str, Any]:
        out = change_to_dict(r.change)
        if r.reason:
            out["reason"] = r.reason
        return out

    return {
        "format_version": RESULT_FORMAT_VERSION,
        "site": result.site,
        "mode": result.mode,
        "ok": result.ok,
        "summary": {
            "done": len(result.done),
            "failed": len(result.failed),
            "skipped": len(result.skipped),
            "not_converged": len(result.not_converged),
            "writes": result.writes,
        },
        "done": [entry(r) for r in result.done],
        "failed": [entry(r) for r in result.failed],
        "skipped": [entry(r) for r in result.skipped],
        "not_converged": [
            {"space": nc.space, "changes": [change_to_dict(c) for c in nc.changes]}
            for nc in result.not_converged
        ],
        "writes_by_space": dict(sorted(result.writes_by_space.items())),
    }
