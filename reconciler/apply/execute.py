"""Executing a plan's changes in their phases: roles, spaces (``reconciler.apply.space``), app policies.

Definite failures fail that change only; a failed role creation skips the assignments to that role. Role
writes whose outcome is unknown are settled by re-reading the role list, never repeated blindly.
"""

from __future__ import annotations

from reconciler.apply.result import ChangeResult, Status
from reconciler.apply.space import space_phase
from reconciler.apply.state import (
    ADD_PHASE,
    CONFIRMED,
    NO_ADMIN_API,
    ORG,
    SITE,
    Item,
    MapSpaces,
    Results,
    RunState,
    is_unknown_outcome,
    sequential,
)
from reconciler.backend import PolicyStep
from reconciler.errors import ApiError, NotFoundError
from reconciler.model import DsRule, RoleDef
from reconciler.plan.changes import ACCESS_CHANGES, AppPolicyChange, Change, ChangeKind, RoleChange, SiteRole
from reconciler.plan.replay import role_shows

__all__ = ["CONFIRMED", "SITE", "MapSpaces", "RunState", "execute_plan", "sequential"]


def execute_plan(run: RunState) -> list[ChangeResult]:
    """Run every change of the plan in its phases; return one result per change, in plan order."""
    items = list(enumerate(run.plan.changes))
    results: Results = {}
    for i, change in items:
        if isinstance(change, RoleChange) and change.new is not None:  # create, update
            results[i] = _role_change(run, change)
    _phase(run, results, _by_space(items, ADD_PHASE))
    results.update(_data_security(run, [(i, c) for i, c in items if isinstance(c, AppPolicyChange)]))
    _phase(run, results, _by_space(items, (ChangeKind.REVOKE,)))
    for i, change in items:
        if isinstance(change, RoleChange) and change.new is None:  # delete
            results[i] = _role_change(run, change)
    return [results[i] for i, _ in items]


def _phase(run: RunState, results: Results, groups: list[tuple[str, list[Item]]]) -> None:
    """One phase over every space, concurrently when the run allows it; results merged by plan position."""
    for done in run.map_spaces(lambda group: space_phase(run, *group), groups):
        results.update(done)


def _by_space(
    items: list[tuple[int, Change]], kinds: tuple[ChangeKind, ...]
) -> list[tuple[str, list[Item]]]:
    groups: dict[str, list[Item]] = {}
    for i, change in items:
        if isinstance(change, ACCESS_CHANGES) and change.kind in kinds:
            groups.setdefault(change.space, []).append((i, change))
    return list(groups.items())


# ------------------------------------------------------------------------------------------------ roles


def _role_change(run: RunState, change: RoleChange) -> ChangeResult:
    name = change.name
    reason = ""
    for _ in range(run.max_rounds):
        outcome = _try_role_write(run, change, name)
        if isinstance(outcome, ChangeResult):
            return outcome
        run.sleep(run.settle)
        try:
            roles = run.reader.read_roles()
        except ApiError as err:
            return _role_failed(run, change, name, f"{outcome}; re-reading the roles failed: {err}")
        run.count_reread()
        if role_shows(roles, change):
            if change.existing is None:  # created
                run.role_ids[name] = roles[name].id
            return ChangeResult(change, Status.DONE, CONFIRMED)
        reason = str(outcome)
    return _role_failed(run, change, name, f"outcome unknown after {run.max_rounds} attempts: {reason}")


def _try_role_write(run: RunState, change: RoleChange, name: str) -> ChangeResult | ApiError:
    """The result of one role write, or the error of a write whose outcome is unknown."""
    try:
        _write_role(run, change, name)
    except NotFoundError as err:
        if change.kind is ChangeKind.DELETE_ROLE:
            return ChangeResult(change, Status.DONE, "already deleted")
        return _role_failed(run, change, name, str(err))
    except ApiError as err:
        if is_unknown_outcome(err):
            return err
        return _role_failed(run, change, name, str(err))
    return ChangeResult(change, Status.DONE)


def _role_failed(run: RunState, change: RoleChange, name: str, reason: str) -> ChangeResult:
    if change.kind is ChangeKind.CREATE_ROLE:
        run.failed_roles.add(name)
    return ChangeResult(change, Status.FAILED, reason)


def _write_role(run: RunState, change: RoleChange, name: str) -> None:
    run.progress(f"role {name}: {change.kind.name.lower().replace('_', ' ')}")
    run.count_write(SITE)
    match change.existing, change.new:
        case None, RoleDef() as new:
            run.role_ids[name] = run.writer.create_role(new)
        case SiteRole() as existing, RoleDef() as new:
            run.writer.update_role(existing.id, new)
        case SiteRole() as existing, None:
            run.writer.delete_role(existing.id)


# ----------------------------------------------------------------------------------------- app policies


def _data_security(run: RunState, items: list[tuple[int, AppPolicyChange]]) -> Results:
    """Data security changes, rule by rule (ORG defaults first within a rule; one publish per rule)."""
    by_rule: dict[DsRule, list[tuple[int, AppPolicyChange]]] = {}
    for i, change in items:
        by_rule.setdefault(change.policy.rule, []).append((i, change))
    results: Results = {}
    for rule in DsRule:
        group = by_rule.get(rule, [])
        if not group:
            continue
        malformed = [(i, c) for i, c in group if not _well_formed(c)]
        for i, change in malformed:
            results[i] = ChangeResult(change, Status.FAILED, MALFORMED)
        group = [(i, c) for i, c in group if _well_formed(c)]
        if run.app_writer is None:
            results.update({i: ChangeResult(c, Status.SKIPPED, NO_ADMIN_API) for i, c in group})
            continue
        if not group:
            continue
        before = run.app_writer.writes
        outcomes = run.app_writer.apply_rule(rule, [PolicyStep(c.new, c.existing) for _, c in group])
        run.count_write(ORG, run.app_writer.writes - before)
        for (i, change), outcome in zip(group, outcomes, strict=True):
            status = Status.DONE if outcome is None else Status.FAILED
            results[i] = ChangeResult(change, status, outcome or "")
    return results


MALFORMED = ("the plan file is malformed: a data security change without its policy; "
             "run `reconciler plan` again")


def _well_formed(change: AppPolicyChange) -> bool:
    """A change the plan file holds completely: an update or a deletion names the live policy's id."""
    return change.existing is None or change.existing.id is not None
