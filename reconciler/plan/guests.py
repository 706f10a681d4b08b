"""A guest never reaches a role above ``guests.max_role`` through a group the policy assigns.

``validate`` checks roles given to guests directly (``policy/access.py``); a group is checked here, at plan
time, because only the site knows who is in it. The read (``confluence/read.py``) gets the members of
every group that would hold a role above ``max_role`` in a managed space (``guest_limit.groups_to_read``),
keeping the guests (the site's ``isGuest``, or a person the policy marks ``guest: true``). The check
(``findings``) then looks at the access after the plan: in an exact space every group role, in an additive
space the group roles the plan itself assigns. Each group with guest members there is a blocking finding.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from reconciler.guest_limit import above, role_permissions
from reconciler.live_state import LiveState
from reconciler.model import Authority, DesiredState, Principal, PrincipalKind
from reconciler.plan.changes import AccessChange, AssignmentChange
from reconciler.plan.plan import SafetyCheck, SafetyFinding
from reconciler.plan.replay import replay

SHOWN = 3  # guests named per finding


def findings(desired: DesiredState, live: LiveState, changes: Sequence[AccessChange],
             authority: Mapping[str, Authority], refusal: str) -> list[SafetyFinding]:
    """A finding per space and group that would give a guest a role above ``guests.max_role``."""
    members = live.guest_members
    if desired.guest_max_role is None or not members:
        return []
    perms = role_permissions(desired, live)
    by_space: dict[str, list[AccessChange]] = {}
    for change in changes:
        by_space.setdefault(change.space, []).append(change)
    found: list[SafetyFinding] = []
    for key in sorted(authority):
        space = live.spaces.get(key)
        if space is None:
            continue
        planned = by_space.get(key, [])
        after = replay(space, planned, grants=False).roles
        if authority[key] is not Authority.EXACT:  # additive: only the roles the plan assigns
            assigned = {c.principal for c in planned if isinstance(c, AssignmentChange) and c.role}
            after = {p: r for p, r in after.items() if p in assigned}
        for principal, role in sorted(after.items(), key=lambda pr: pr[0].id):
            guests = members.get(principal.id, ()) if principal.kind is PrincipalKind.GROUP else ()
            if guests and above(desired, perms, role):
                message = _message(key, principal, role, guests, desired=desired, refusal=refusal)
                found.append(SafetyFinding(SafetyCheck.GUEST, message, key))
    return found


def _message(key: str, group: Principal, role: str, guests: Collection[str], *, desired: DesiredState,
             refusal: str) -> str:
    handles = {person.account_id: handle for handle, person in desired.people.items()}
    names = sorted(handles.get(account, account) for account in guests)
    shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
    return (f"space {key}: group '{group.id}' would hold {role}, and its members include guest(s) {shown}, "
            f"who may hold at most {desired.guest_max_role} (guests.max_role); give the group a lower role "
            f"or take the guests out of it ({refusal})")
