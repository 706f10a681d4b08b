"""Executing a plan's changes: the phases, failure isolation, and unknown outcomes.

A write whose outcome is unknown (no response, a 5xx or a 429 reaching us) stops that space's phase; the
space is re-read and only the planned changes not yet visible are written again, at most ``max_rounds``
times. Definite failures (4xx) fail that change only; a failed ``read/space`` grant skips the principal's
other grants in that space, a failed role creation skips the assignments to that role.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.apply_ports import AppPolicyWriter, Reader, RoleEntry, Subject, Writer
from reconciler.apply_result import ChangeResult, Status
from reconciler.errors import ApiError, AuthError, NotFoundError, TransportError
from reconciler.model import READ_SPACE, LiveRole, LiveSpace, LiveState, Principal, PrincipalKind, SpaceInfo
from reconciler.plan.changes import Change, ChangeKind, Plan

SITE = "(site)"  # writes_by_space key of role writes
ORG = "(org)"  # writes_by_space key of app-policy writes
ROLE_KINDS = frozenset({ChangeKind.CREATE_ROLE, ChangeKind.UPDATE_ROLE, ChangeKind.DELETE_ROLE})
APP_KINDS = frozenset({ChangeKind.CREATE_APP_POLICY, ChangeKind.UPDATE_APP_POLICY,
                       ChangeKind.DELETE_APP_POLICY})
ASSIGN_KINDS = frozenset({ChangeKind.ASSIGN, ChangeKind.REASSIGN, ChangeKind.UNASSIGN})
ADD_PHASE = frozenset({ChangeKind.GRANT}) | ASSIGN_KINDS
NO_ADMIN_API = "app access changes need the Admin API: set ATLASSIAN_ADMIN_API_KEY"
CONFIRMED = "confirmed by a re-read after a write whose outcome was unknown"

Item = tuple[int, Change]  # position in the plan, change
Results = dict[int, ChangeResult]
MapSpaces = Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]


def sequential(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    return [fn(item) for item in items]


class _Unresolved(Exception):  # noqa: N818 - internal signal, never escapes this module
    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Run:
    """The mutable state of one apply run."""

    plan: Plan
    live: LiveState
    reader: Reader
    writer: Writer
    app_writer: AppPolicyWriter | None
    sleep: Callable[[float], None]
    settle: float
    progress: Callable[[str], None]
    max_rounds: int = 3
    map_spaces: MapSpaces = sequential  # spaces are independent: the client's bounded pool may run them
    lock: threading.Lock = field(default_factory=threading.Lock)
    role_ids: dict[str, str] = field(default_factory=dict)
    failed_roles: set[str] = field(default_factory=set)
    blocked: set[tuple[str, str]] = field(default_factory=set)  # (space, principal ref): read/space failed
    writes_by_space: Counter[str] = field(default_factory=Counter)
    rereads: int = 0

    def __post_init__(self) -> None:
        self.role_ids.update({name: role.id for name, role in self.live.roles.items()})

    def count_write(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.writes_by_space[key] += n

    def count_reread(self) -> None:
        with self.lock:
            self.rereads += 1


def is_unknown_outcome(err: ApiError) -> bool:
    """No response, a server error or a rate limit that reached us: the write may or may not have happened."""
    return isinstance(err, TransportError) or err.status is None or err.status >= 500 or err.status == 429


def execute_plan(run: Run) -> list[ChangeResult]:
    """Run every change of the plan in its phases; return one result per change, in plan order."""
    items = list(enumerate(run.plan.changes))
    results: Results = {}
    for i, change in items:
        if change.kind in (ChangeKind.CREATE_ROLE, ChangeKind.UPDATE_ROLE):
            results[i] = _role_change(run, change)
    _phase(run, results, _by_space(items, ADD_PHASE))
    for i, change in items:
        if change.kind in APP_KINDS:
            results[i] = _app_change(run, change)
    _phase(run, results, _by_space(items, frozenset({ChangeKind.REVOKE})))
    for i, change in items:
        if change.kind is ChangeKind.DELETE_ROLE:
            results[i] = _role_change(run, change)
    return [results[i] for i, _ in items]


def _phase(run: Run, results: Results, groups: list[tuple[str, list[Item]]]) -> None:
    """One phase over every space, concurrently when the run allows it; results merged by plan position."""
    for done in run.map_spaces(lambda group: _space_phase(run, *group), groups):
        results.update(done)


def _by_space(items: list[Item], kinds: frozenset[ChangeKind]) -> list[tuple[str, list[Item]]]:
    groups: dict[str, list[Item]] = {}
    for i, change in items:
        if change.kind in kinds and change.space:
            groups.setdefault(change.space, []).append((i, change))
    return list(groups.items())


# ------------------------------------------------------------------------------------------------ roles


def _role_change(run: Run, change: Change) -> ChangeResult:
    role = change.role_def or change.old_role_def
    name = role.name if role else "?"
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
        if role_satisfied(change, roles):
            if change.kind is ChangeKind.CREATE_ROLE:
                run.role_ids[name] = roles[name].id
            return ChangeResult(change, Status.DONE, CONFIRMED)
        reason = str(outcome)
    return _role_failed(run, change, name, f"outcome unknown after {run.max_rounds} attempts: {reason}")


def _try_role_write(run: Run, change: Change, name: str) -> ChangeResult | ApiError:
    """The result of one role write, or the error of a write whose outcome is unknown."""
    try:
        _write_role(run, change, name)
    except _Unresolved as err:
        return ChangeResult(change, err.status, err.reason)
    except NotFoundError as err:
        if change.kind is ChangeKind.DELETE_ROLE:
            return ChangeResult(change, Status.DONE, "already deleted")
        return _role_failed(run, change, name, str(err))
    except ApiError as err:
        if is_unknown_outcome(err):
            return err
        return _role_failed(run, change, name, str(err))
    return ChangeResult(change, Status.DONE)


def _role_failed(run: Run, change: Change, name: str, reason: str) -> ChangeResult:
    if change.kind is ChangeKind.CREATE_ROLE:
        run.failed_roles.add(name)
    return ChangeResult(change, Status.FAILED, reason)


def _write_role(run: Run, change: Change, name: str) -> None:
    run.progress(f"role {name}: {change.kind.name.lower().replace('_', ' ')}")
    if change.kind is ChangeKind.CREATE_ROLE:
        assert change.role_def is not None
        run.count_write(SITE)
        run.role_ids[name] = run.writer.create_role(change.role_def)
        return
    role_id = change.role_id or run.role_ids.get(name)
    if role_id is None:
        raise _Unresolved(Status.FAILED, f"role '{name}' does not exist on the site")
    run.count_write(SITE)
    if change.kind is ChangeKind.UPDATE_ROLE:
        assert change.role_def is not None
        run.writer.update_role(role_id, change.role_def)
    else:
        run.writer.delete_role(role_id)


def role_satisfied(change: Change, roles: Mapping[str, LiveRole]) -> bool:
    """Whether a role change is visible in a read of the site's roles (by name)."""
    role = change.role_def or change.old_role_def
    if role is None:
        return False
    live = roles.get(role.name)
    if change.kind is ChangeKind.DELETE_ROLE:
        return live is None
    return live is not None and live.permissions == role.permissions and live.description == role.description


# ----------------------------------------------------------------------------------------- app policies


def _app_change(run: Run, change: Change) -> ChangeResult:
    if run.app_writer is None:
        return ChangeResult(change, Status.SKIPPED, NO_ADMIN_API)
    run.count_write(ORG)
    try:
        run.app_writer.apply_change(change)
    except ApiError as err:
        unknown = " (outcome unknown; run apply again to converge)" if is_unknown_outcome(err) else ""
        return ChangeResult(change, Status.FAILED, f"{err}{unknown}")
    return ChangeResult(change, Status.DONE)


# ----------------------------------------------------------------------------------------------- spaces


def space_satisfied(change: Change, space: LiveSpace) -> bool:
    """Whether a space change is visible in a read of that space."""
    principal = change.principal
    if principal is None:
        return False
    if change.kind in (ChangeKind.ASSIGN, ChangeKind.REASSIGN):
        return space.assignments.get(principal) == change.role
    if change.kind is ChangeKind.UNASSIGN:
        return principal not in space.assignments
    held = space.grants.get(principal, {})
    if change.kind is ChangeKind.GRANT:
        return change.permission in held
    if change.kind is ChangeKind.REVOKE:
        return change.permission not in held
    return False


def _space_phase(run: Run, key: str, items: list[Item]) -> Results:
    """One phase of one space, re-reading after an unknown outcome; failures stay inside the space."""
    results: Results = {}
    live_space = run.live.spaces.get(key)
    info = live_space.info if live_space else _planned_info(run, key)
    if info is None:
        return {i: ChangeResult(c, Status.FAILED, f"space {key} was not found on the site") for i, c in items}
    run.progress(f"space {key}: {len(items)} change(s)")
    pending, last = items, None
    for _ in range(run.max_rounds):
        last = _write_space(run, info, live_space, pending, results)
        if last is None:
            return results
        run.sleep(run.settle)
        try:
            fresh = run.reader.read([key])
        except ApiError as err:
            return _fail_rest(items, results, f"{last}; re-reading the space failed: {err}")
        run.count_reread()
        live_space = fresh.spaces.get(key)
        pending = []
        for i, change in items:
            if i in results:
                continue
            if live_space is not None and space_satisfied(change, live_space):
                results[i] = ChangeResult(change, Status.DONE, CONFIRMED)
            else:
                pending.append((i, change))
    return _fail_rest(items, results, f"outcome unknown after {run.max_rounds} attempts: {last}")


def _planned_info(run: Run, key: str) -> SpaceInfo | None:
    for planned in run.plan.spaces:
        if planned.key == key and planned.id:
            return SpaceInfo(key=key, id=planned.id, name=key, type="global")
    return None


def _fail_rest(items: list[Item], results: Results, reason: str) -> Results:
    for i, change in items:
        results.setdefault(i, ChangeResult(change, Status.FAILED, reason))
    return results


def _write_space(
    run: Run, info: SpaceInfo, live_space: LiveSpace | None, pending: list[Item], results: Results
) -> ApiError | None:
    """Write the pending changes of one space; return the error of a write with an unknown outcome."""
    grants = [(i, c) for i, c in pending if c.kind is ChangeKind.GRANT]
    assigns = [(i, c) for i, c in pending if c.kind in ASSIGN_KINDS]
    revokes = [(i, c) for i, c in pending if c.kind is ChangeKind.REVOKE]
    for i, change in grants:
        err = _grant(run, info, i, change, results)
        if err is not None:
            return err
    if assigns:
        err = _post_assignments(run, info, assigns, results)
        if err is not None:
            return err
    for i, change in revokes:
        err = _revoke(run, (info, live_space), i, change, results)
        if err is not None:
            return err
    return None


def _grant(run: Run, info: SpaceInfo, i: int, change: Change, results: Results) -> ApiError | None:
    assert change.principal is not None
    assert change.permission is not None
    if (info.key, change.principal.ref) in run.blocked:
        results[i] = ChangeResult(change, Status.SKIPPED,
                                  f"skipped: granting {READ_SPACE} to {change.principal} failed")
        return None
    try:
        subject = _subject(run, change.principal)
        run.count_write(info.key)
        run.writer.add_permission(info, subject, change.permission)
    except _Unresolved as err:
        results[i] = ChangeResult(change, err.status, err.reason)
    except ApiError as err:
        if is_unknown_outcome(err):
            return err
        if err.status == 400 and "already exists" in err.detail.lower():
            results[i] = ChangeResult(change, Status.DONE, "already in place")
            return None
        results[i] = ChangeResult(change, Status.FAILED, str(err))
        if change.permission == READ_SPACE:
            run.blocked.add((info.key, change.principal.ref))
    else:
        results[i] = ChangeResult(change, Status.DONE)
    return None


def _revoke(
    run: Run, space: tuple[SpaceInfo, LiveSpace | None], i: int, change: Change, results: Results
) -> ApiError | None:
    info, live_space = space
    assert change.principal is not None
    assert change.permission is not None
    permission_id = change.permission_id
    if live_space is not None:
        held = live_space.grants.get(change.principal, {})
        if change.permission not in held:
            results[i] = ChangeResult(change, Status.DONE, "already revoked")
            return None
        permission_id = held[change.permission]
    if permission_id is None:
        results[i] = ChangeResult(change, Status.FAILED, "no permission id in the live read")
        return None
    try:
        run.count_write(info.key)
        run.writer.delete_permission(info, permission_id)
    except NotFoundError:
        results[i] = ChangeResult(change, Status.DONE, "already revoked")
    except ApiError as err:
        if is_unknown_outcome(err):
            return err
        results[i] = ChangeResult(change, Status.FAILED, str(err))
    else:
        results[i] = ChangeResult(change, Status.DONE)
    return None


def _post_assignments(run: Run, info: SpaceInfo, items: list[Item], results: Results) -> ApiError | None:
    """One POST for the space; after a definite failure, one POST per principal to isolate the bad one."""
    entries: list[tuple[int, Change, RoleEntry]] = []
    for i, change in items:
        try:
            entries.append((i, change, _role_entry(run, change)))
        except _Unresolved as err:
            results[i] = ChangeResult(change, err.status, err.reason)
    if not entries:
        return None
    try:
        _set(run, info, [entry for _, _, entry in entries])
    except ApiError as err:
        if is_unknown_outcome(err):
            return err
        if len(entries) == 1 or isinstance(err, (AuthError, NotFoundError)):
            # not about one principal (no right to set roles, space gone): every entry fails alike
            for i, change, _ in entries:
                results[i] = ChangeResult(change, Status.FAILED, str(err))
            return None
        return _post_one_by_one(run, info, entries, results)
    for i, change, _ in entries:
        results[i] = ChangeResult(change, Status.DONE)
    return None


def _post_one_by_one(
    run: Run, info: SpaceInfo, entries: list[tuple[int, Change, RoleEntry]], results: Results
) -> ApiError | None:
    for i, change, entry in entries:
        try:
            _set(run, info, [entry])
        except ApiError as err:
            if is_unknown_outcome(err):
                return err
            results[i] = ChangeResult(change, Status.FAILED, str(err))
        else:
            results[i] = ChangeResult(change, Status.DONE)
    return None


def _set(run: Run, info: SpaceInfo, entries: list[RoleEntry]) -> None:
    run.count_write(info.key)  # counted before sending: a failed request is still a request
    requests = run.writer.set_role_assignments(info, entries)
    run.count_write(info.key, max(0, requests - 1))


def _role_entry(run: Run, change: Change) -> RoleEntry:
    assert change.principal is not None
    principal_id = _principal_id(run, change.principal)
    if change.kind is ChangeKind.UNASSIGN or change.role is None:
        return RoleEntry(change.principal, principal_id, None)
    if change.role in run.failed_roles:
        raise _Unresolved(Status.SKIPPED, f"skipped: creating role '{change.role}' failed")
    role_id = run.role_ids.get(change.role)
    if role_id is None:
        raise _Unresolved(Status.FAILED, f"role '{change.role}' does not exist on the site")
    return RoleEntry(change.principal, principal_id, role_id)


def _principal_id(run: Run, principal: Principal) -> str:
    if principal.kind is not PrincipalKind.GROUP or principal.unknown:
        return principal.id
    group_id = run.live.group_ids.get(principal.id)
    if group_id is None:
        raise _Unresolved(Status.FAILED, f"group '{principal.id}' was not found on the site")
    return group_id


def _subject(run: Run, principal: Principal) -> Subject:
    if principal.kind is PrincipalKind.USER:
        return Subject("user", principal.id)
    if principal.kind is PrincipalKind.GROUP:
        return Subject("group", _principal_id(run, principal))
    if principal.id == "anonymous-users":
        return Subject("user", "anonymous")
    raise _Unresolved(Status.FAILED, f"{principal} cannot hold individual permissions (only "
                                     "class:anonymous-users can)")
