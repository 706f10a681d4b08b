"""What ``reconciler import`` reads: every space (not only a policy's), its users, and the actor.

The spaces are read through the backend with a ``ReadRequest`` whose one selector matches every space
(personal spaces only when named with ``--space``), so import sees the site exactly as plan and drift will:
the same calls, group names, and definition of custom access. The actor is the account the tool runs as,
else the user who is Admin in the most non-personal spaces, else ``--actor``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from reconciler.backend import ReadRequest
from reconciler.drift.classify import custom_access
from reconciler.drift.migrate import MigrationPlan, propose_roles
from reconciler.importer.files import SiteSnapshot
from reconciler.live_state import LiveState
from reconciler.model import ADMIN_ROLE, PrincipalKind, SpaceSelector

IMPORTED_TYPES = ("global", "collaboration", "knowledge_base")  # personal spaces only when asked for


def import_request(spaces: Sequence[str] = ()) -> ReadRequest:
    """Every space of the imported types (``spaces``: just these, of any type)."""
    selector = SpaceSelector(keys=("*",), types=() if spaces else IMPORTED_TYPES)
    return ReadRequest(selectors=(selector,), only=tuple(spaces), unmanaged=not spaces)


def users_seen(live: LiveState) -> list[str]:
    """The account ids of every user in an assignment or grant, sorted."""
    return sorted({p.id for s in live.spaces.values() for p in [*s.assignments, *s.grants]
                   if p.kind is PrincipalKind.USER})


def busiest_admin(live: LiveState) -> str | None:
    """The user who is Admin in the most imported spaces, personal spaces aside (their owner is Admin
    there); ties: the lowest account id."""
    spaces = [s for s in live.spaces.values() if s.info.type != "personal"] or list(live.spaces.values())
    admins = Counter(p.id for s in spaces for p, role in s.assignments.items()
                     if p.kind is PrincipalKind.USER and role == ADMIN_ROLE)
    if not admins:
        return None
    return min(admins, key=lambda account: (-admins[account], account))


def import_proposals(snapshot: SiteSnapshot) -> MigrationPlan | None:
    """Role proposals for the principals on custom access, or None when nobody is."""
    found = custom_access(snapshot.live, sorted(snapshot.live.spaces))
    if not found:
        return None
    roles = {name: role.permissions for name, role in snapshot.live.roles.items()}
    return propose_roles(found, roles)
