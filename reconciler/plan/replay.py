"""The one definition of "after": changes replayed onto what the site holds.

Safety counts admins and finds who holds a role once the plan is made (``replay``); apply asks whether a
re-read already shows a change made (``shows``, ``role_shows``): replaying the change onto that read
changes nothing the change is about. Rules (DESIGN.md §4, docs/safety.md):

- assign and reassign set the principal's role, unassign removes it;
- on a transition site a role assigned to a principal without one replaces its individual permissions;
- grant adds one permission; revoking ``read/space`` drops every permission of that principal (the site
  does so), revoking another drops that one and the rows that came with its grant
  (``reconciler.vocabulary.COMPANIONS``: one left behind shows as a grant of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from reconciler.live_state import LiveRole, LiveSpace
from reconciler.model import READ_SPACE, Principal
from reconciler.permissions import space_admins
from reconciler.plan.changes import AccessChange, AssignmentChange, ChangeKind, RoleChange
from reconciler.vocabulary import COMPANIONS


@dataclass(frozen=True, slots=True)
class SpaceAccess:
    """Who holds what in one space: a role per principal, and individual permissions per principal."""

    roles: dict[Principal, str]
    grants: dict[Principal, set[str]]

    def admins(self, permissions_of: Callable[[str], Collection[str] | None]) -> frozenset[Principal]:
        """Who is an admin (``permissions.space_admins``: any role or grant set with ``administer/space``)."""
        return space_admins(self.roles, self.grants, permissions_of)


def replay(
    space: LiveSpace, changes: Iterable[AccessChange], *, roles: bool = True, grants: bool = True
) -> SpaceAccess:
    """The access in ``space`` once ``changes`` are made.

    ``roles`` / ``grants`` False: the site has no roles / no individual permissions, so the space starts
    with none of them (whatever the read holds).
    """
    access = SpaceAccess(
        dict(space.assignments) if roles else {},
        {p: set(perms) for p, perms in space.grants.items()} if grants else {},
    )
    for change in changes:
        _make(access, change)
    return access


def shows(space: LiveSpace, change: AccessChange) -> bool:
    """Whether a read of ``space`` shows ``change`` made: replaying it there changes nothing it is about."""
    principal = change.principal
    now = SpaceAccess(
        {principal: space.assignments[principal]} if principal in space.assignments else {},
        {principal: set(space.grants[principal])} if principal in space.grants else {},
    )
    before = _fact(now, change)
    _make(now, change)
    return _fact(now, change) == before


def role_shows(roles: Mapping[str, LiveRole], change: RoleChange) -> bool:
    """Whether a read of the site's roles (by name) shows a role change made."""
    live = roles.get(change.name)
    if change.new is None:
        return live is None
    new = change.new
    return live is not None and live.permissions == new.permissions and live.description == new.description


def _make(access: SpaceAccess, change: AccessChange) -> None:
    principal = change.principal
    if isinstance(change, AssignmentChange):
        if change.role is None:
            access.roles.pop(principal, None)
            return
        if change.old_role is None and principal not in access.roles:
            access.grants.pop(principal, None)  # on a transition site a role replaces individual permissions
        access.roles[principal] = change.role
    elif change.kind is ChangeKind.GRANT:
        access.grants.setdefault(principal, set()).add(change.permission)
    else:
        held = access.grants.get(principal, set())
        if change.permission == READ_SPACE:
            held.clear()  # revoking read/space drops every other permission of that principal
        held.discard(change.permission)
        held -= COMPANIONS.get(change.permission, frozenset())


def _fact(access: SpaceAccess, change: AccessChange) -> str | frozenset[str] | None:
    if isinstance(change, AssignmentChange):
        return access.roles.get(change.principal)
    rows = {change.permission} | COMPANIONS.get(change.permission, frozenset())
    return frozenset(access.grants.get(change.principal, set()) & rows)
