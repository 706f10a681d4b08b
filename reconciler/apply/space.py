"""One phase of one space: grants, the role-assignment POST, revokes; re-reads after unknown outcomes.

A write whose outcome is unknown (no response, a 5xx or a 429 reaching us) stops that space's phase; the
space is re-read and only the planned changes not yet visible are written again, at most ``max_rounds``
times. Definite failures fail that change only; a failed ``read/space`` grant skips the principal's other
grants in that space.

Removals never run past a failed addition: when any grant, assign or reassign of a space fails or is
skipped, that space's unassigns and revokes are skipped (``HELD``), never sent. A typo in the policy (an
unknown group) must not cost the real principal it was meant to name its access.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.apply.declarative import declarative_writer, write_sets
from reconciler.apply.ports import RoleEntry, Subject
from reconciler.apply.result import ChangeResult, Status
from reconciler.apply.state import (
    ADDITION_KINDS,
    CONFIRMED,
    HELD,
    Item,
    Results,
    RunState,
    Unresolved,
    is_unknown_outcome,
)
from reconciler.errors import ApiError, AuthError, NotFoundError
from reconciler.live_state import LiveSpace, SpaceInfo
from reconciler.model import READ_SPACE, Principal, PrincipalKind
from reconciler.plan.changes import AssignmentChange, ChangeKind, GrantChange
from reconciler.plan.replay import shows


def space_phase(run: RunState, key: str, items: list[Item]) -> Results:
    """One phase of one space, re-reading after an unknown outcome; failures stay inside the space.

    An addition that did not get done holds the space's removals, in this phase and the revoke phase.
    """
    results = _space_phase(run, key, items)
    if _addition_failed(run, key, results):
        run.hold(key)
    return results


def _addition_failed(run: RunState, key: str, results: Results) -> bool:
    """Whether a grant, assign or reassign of space ``key`` failed or was skipped (this phase or before)."""
    return run.is_held(key) or any(
        r.change.kind in ADDITION_KINDS and r.status is not Status.DONE for r in results.values()
    )


def _hold(items: Sequence[Item], results: Results) -> None:
    for i, change in items:
        results[i] = ChangeResult(change, Status.SKIPPED, HELD)


def _space_phase(run: RunState, key: str, items: list[Item]) -> Results:
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
            if live_space is not None and shows(live_space, change):
                results[i] = ChangeResult(change, Status.DONE, CONFIRMED)
            else:
                pending.append((i, change))
    return _fail_rest(items, results, f"outcome unknown after {run.max_rounds} attempts: {last}")


def _planned_info(run: RunState, key: str) -> SpaceInfo | None:
    for planned in run.plan.spaces:
        if planned.key == key and planned.id:
            return SpaceInfo(key=key, id=planned.id, name=key, type="global")
    return None


def _fail_rest(items: list[Item], results: Results, reason: str) -> Results:
    for i, change in items:
        results.setdefault(i, ChangeResult(change, Status.FAILED, reason))
    return results


def _write_space(
    run: RunState, info: SpaceInfo, live_space: LiveSpace | None, pending: list[Item], results: Results
) -> ApiError | None:
    """Write the pending changes of one space; return the error of a write with an unknown outcome."""
    sets = declarative_writer(run, info.key, pending)
    if sets is not None and live_space is not None:
        return write_sets(sets, run, (info, live_space), pending, results)
    grants = [(i, c) for i, c in pending if isinstance(c, GrantChange) and c.kind is ChangeKind.GRANT]
    assigns = [(i, c) for i, c in pending if isinstance(c, AssignmentChange)]
    revokes = [(i, c) for i, c in pending if isinstance(c, GrantChange) and c.kind is ChangeKind.REVOKE]
    for i, change in grants:
        err = _grant(run, info, i, change, results)
        if err is not None:
            return err
    if assigns:
        err = _post_assignments(run, info, assigns, results)
        if err is not None:
            return err
    if revokes and _addition_failed(run, info.key, results):
        _hold(revokes, results)
        return None
    for i, change in revokes:
        err = _revoke(run, (info, live_space), i, change, results)
        if err is not None:
            return err
    return None


def _grant(run: RunState, info: SpaceInfo, i: int, change: GrantChange, results: Results) -> ApiError | None:
    if (info.key, change.principal.ref) in run.blocked:
        results[i] = ChangeResult(change, Status.SKIPPED,
                                  f"skipped: granting {READ_SPACE} to {change.principal} failed")
        return None
    try:
        subject = _subject(run, change.principal)
        run.count_write(info.key)
        run.writer.add_permission(info, subject, change.permission)
    except Unresolved as err:
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
    run: RunState, space: tuple[SpaceInfo, LiveSpace | None], i: int, change: GrantChange, results: Results
) -> ApiError | None:
    info, live_space = space
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
    extra = live_space.duplicates.get(change.principal, {}).get(change.permission, ()) if live_space else ()
    for row_id in (permission_id, *extra):  # a permission held in several rows: every row goes
        try:
            run.count_write(info.key)
            run.writer.delete_permission(info, row_id)
        except NotFoundError:
            if row_id == permission_id:
                results[i] = ChangeResult(change, Status.DONE, "already revoked")
        except ApiError as err:
            if is_unknown_outcome(err):
                return err
            results[i] = ChangeResult(change, Status.FAILED, str(err))
            return None
        else:
            if row_id == permission_id:
                results[i] = ChangeResult(change, Status.DONE)
    return None


def _post_assignments(
    run: RunState, info: SpaceInfo, items: list[tuple[int, AssignmentChange]], results: Results
) -> ApiError | None:
    """ONE POST for the space's assigns, reassigns and unassigns, in the normal case.

    Every entry is resolved first (an unknown group or role fails that change without a write); if an
    addition fails that way, or failed in an earlier round, the removals are held and only the additions
    are sent.
    """
    additions = _entries(run, [(i, c) for i, c in items if c.role is not None], results)
    removals = [(i, c) for i, c in items if c.role is None]
    if _addition_failed(run, info.key, results):
        _hold(removals, results)
        return _post(run, info, additions, [], results)
    return _post(run, info, additions, _entries(run, removals, results), results)


Entry = tuple[int, AssignmentChange, RoleEntry]


def _entries(run: RunState, items: list[tuple[int, AssignmentChange]], results: Results) -> list[Entry]:
    """The POST entries of ``items``; a change whose group or role cannot be resolved gets its result."""
    entries: list[Entry] = []
    for i, change in items:
        try:
            entries.append((i, change, _role_entry(run, change)))
        except Unresolved as err:
            results[i] = ChangeResult(change, err.status, err.reason)
    return entries


def _post(
    run: RunState, info: SpaceInfo, additions: list[Entry], removals: list[Entry], results: Results
) -> ApiError | None:
    """One POST of every entry (the endpoint applies it in its entirety or not at all).

    After a definite 400: the additions one per request (so one bad principal fails alone), then the
    removals one per request, only if every addition was written; otherwise the removals are held.
    """
    entries = additions + removals
    if not entries:
        return None
    try:
        _set(run, info, [entry for _, _, entry in entries])
    except ApiError as err:
        if is_unknown_outcome(err):
            return err
        if len(entries) == 1 or isinstance(err, (AuthError, NotFoundError)):
            _fail_entries(entries, results, str(err))  # about the space or the account, not a principal
            return None
        return _one_by_one(run, info, additions, removals, results)
    for i, change, _ in entries:
        results[i] = ChangeResult(change, Status.DONE)
    return None


def _one_by_one(
    run: RunState, info: SpaceInfo, additions: list[Entry], removals: list[Entry], results: Results
) -> ApiError | None:
    """After a rejected POST: each addition alone, then each removal alone if no addition failed."""
    outcome = _post_one_by_one(run, info, additions, results)
    if outcome is not None or not removals:
        return outcome
    if _addition_failed(run, info.key, results):
        _hold([(i, change) for i, change, _ in removals], results)
        return None
    return _post_one_by_one(run, info, removals, results)


def _fail_entries(entries: list[Entry], results: Results, reason: str) -> None:
    for i, change, _ in entries:
        results[i] = ChangeResult(change, Status.FAILED, reason)


def _post_one_by_one(
    run: RunState, info: SpaceInfo, entries: list[Entry], results: Results
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


def _set(run: RunState, info: SpaceInfo, entries: list[RoleEntry]) -> None:
    run.count_write(info.key)  # counted before sending: a failed request is still a request
    requests = run.writer.set_role_assignments(info, entries)
    run.count_write(info.key, max(0, requests - 1))


def _role_entry(run: RunState, change: AssignmentChange) -> RoleEntry:
    principal_id = _principal_id(run, change.principal)
    if change.role is None:  # unassign
        return RoleEntry(change.principal, principal_id, None)
    if change.role in run.failed_roles:
        raise Unresolved(Status.SKIPPED, f"skipped: creating role '{change.role}' failed")
    role_id = run.role_ids.get(change.role)
    if role_id is None:
        raise Unresolved(Status.FAILED, f"role '{change.role}' does not exist on the site")
    return RoleEntry(change.principal, principal_id, role_id)


def _principal_id(run: RunState, principal: Principal) -> str:
    if principal.kind is not PrincipalKind.GROUP or principal.unknown:
        return principal.id
    group_id = run.live.group_ids.get(principal.id)
    if group_id is None:
        raise Unresolved(Status.FAILED, f"group '{principal.id}' was not found on the site")
    return group_id


def _subject(run: RunState, principal: Principal) -> Subject:
    if principal.kind is PrincipalKind.USER:
        return Subject("user", principal.id)
    if principal.kind is PrincipalKind.GROUP:
        return Subject("group", _principal_id(run, principal))
    if principal.id == "anonymous-users":
        return Subject("user", "anonymous")
    raise Unresolved(Status.FAILED, f"{principal} cannot hold individual permissions (only "
                                     "class:anonymous-users can)")
