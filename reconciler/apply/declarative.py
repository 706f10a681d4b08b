"""One space's grants or revokes as whole permission sets, for a writer that sets them declaratively.

Used for spaces under exact authority when the backend offers ``DeclarativePermissions`` (Data Center:
``POST …/permissions``, at most 40 subjects per request). The phases stay as they are: in the addition
phase each principal's set is what it holds plus its grants; in the revoke phase, what it holds minus its
revokes; so nobody loses access before everyone's additions are written.
"""

from __future__ import annotations

from reconciler.apply.result import ChangeResult, Status
from reconciler.apply.state import HELD, Item, Results, RunState, is_unknown_outcome
from reconciler.backend import DeclarativePermissions
from reconciler.errors import ApiError
from reconciler.live_state import LiveSpace, SpaceInfo
from reconciler.model import Authority, Principal
from reconciler.plan.changes import ChangeKind, GrantChange


def declarative_writer(run: RunState, key: str, items: list[Item]) -> DeclarativePermissions | None:
    """The writer's declarative part, when it has one, the space is exact and every change is a grant."""
    writer = run.writer
    if not isinstance(writer, DeclarativePermissions) or not items:
        return None
    if not all(isinstance(change, GrantChange) for _, change in items):
        return None
    exact = any(space.key == key and space.authority is Authority.EXACT for space in run.plan.spaces)
    return writer if exact else None


def write_sets(
    writer: DeclarativePermissions, run: RunState, space: tuple[SpaceInfo, LiveSpace], pending: list[Item],
    results: Results,
) -> ApiError | None:
    """Write ``pending`` as whole sets; return the error of a write whose outcome is unknown. Removals
    never run past a failed addition in the space (they are held, as in the per-permission path)."""
    info, live_space = space
    if run.is_held(info.key) and any(change.kind is ChangeKind.REVOKE for _, change in pending):
        for i, change in pending:
            results[i] = ChangeResult(change, Status.SKIPPED, HELD)
        return None
    sets: dict[Principal, set[str]] = {}
    for _, change in pending:
        assert isinstance(change, GrantChange)
        held = sets.setdefault(change.principal, set(live_space.grants.get(change.principal, {})))
        if change.kind is ChangeKind.GRANT:
            held.add(change.permission)
        else:
            held.discard(change.permission)
    try:
        requests = writer.set_permissions(info, {p: frozenset(ops) for p, ops in sets.items()})
    except ApiError as err:
        if is_unknown_outcome(err):
            return err
        for i, change in pending:
            results[i] = ChangeResult(change, Status.FAILED, str(err))
        return None
    run.count_write(info.key, requests)
    for i, change in pending:
        results[i] = ChangeResult(change, Status.DONE)
    return None
