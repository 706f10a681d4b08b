"""Every sandbox rule that no source describes, in one place, each behind a named knob.

No published spec, Atlassian page or third-party live observation says what the real API does in these
cases (docs/evidence/cloud-fidelity-audit.md §3.8); the sandbox needs *some* answer, so it gives the one
below, and a test or a user who learns otherwise flips the knob (``Knobs`` field of the same name,
``POST /_sandbox/knobs``, or a ``sandbox serve`` flag) or corrects the default here. docs/sandbox.md lists
them under "Unverified rules".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconciler.sandbox.failures import HttpError, bad_request

if TYPE_CHECKING:
    from reconciler.sandbox.faults import Knobs
    from reconciler.sandbox.state import PrincipalKey, SiteState, Space

# knob name -> (default, what it does).  The defaults keep the behaviour the sandbox always had.
LAST_ADMIN_GUARD = True  # a role-assignment request that leaves a space without administer/space is 400
REFUSE_DELETE_ASSIGNED_ROLE = True  # deleting a custom role still assigned somewhere is 400
CUSTOM_ROLE_LIMIT_STATUS = 400  # the status of creating an 11th custom role (the limit itself is documented)
REFUSE_DUPLICATE_PRINCIPAL = True  # a role-assignment body naming one principal twice is 400
ASSIGNMENT_CLEARS_PERMISSIONS = True  # assigning a role removes that principal's legacy rows in the space
GUEST_ROLE_LIMITS = True  # a guest may not get admin/export/restrict through a role (the UI's rule)

KNOB_DOCS: dict[str, str] = {
    "last_admin_guard": "role assignments that would leave a space without administer/space answer 400",
    "refuse_delete_assigned_role": "DELETE of a custom role that is still assigned answers 400",
    "custom_role_limit_status": "status of creating an 11th custom role (the limit of 10 is documented)",
    "refuse_duplicate_principal": "a role-assignment body listing one principal twice answers 400",
    "assignment_clears_permissions": "assigning a role removes that principal's legacy rows in the space",
    "guest_role_limits": "guests cannot hold administer/export/restrict through a role (400)",
}


def refuse_duplicate(knobs: Knobs, principal: PrincipalKey, seen: set[PrincipalKey]) -> None:
    if knobs.refuse_duplicate_principal and principal in seen:
        raise bad_request(f"Principal {principal[0]}:{principal[1]} is listed more than once")


def guard_last_admin(knobs: Knobs, space: Space, before: bool, after: bool) -> None:
    """Raise after a role-assignment request took away the space's last ``administer/space`` holder."""
    if knobs.last_admin_guard and before and not after:
        raise bad_request(f"Space {space.key} must keep at least one principal with administer/space")


def refuse_assigned_role_delete(knobs: Knobs, state: SiteState, role_id: str) -> None:
    if not knobs.refuse_delete_assigned_role:
        return
    used = sorted(s.key for s in state.spaces.values() if role_id in s.assignments.values())
    if used:
        raise HttpError(
            400,
            f"The space role is assigned in {len(used)} space(s) ({', '.join(used[:5])}); "
            "remove those assignments first",
        )


def custom_role_limit(knobs: Knobs, limit: int) -> HttpError:
    message = f"You can create up to {limit} custom roles in Confluence."
    return HttpError(knobs.custom_role_limit_status, message)


def guest_role_check(knobs: Knobs, is_guest: bool, forbidden: Iterable[str]) -> None:
    found = sorted(forbidden)
    if knobs.guest_role_limits and is_guest and found:
        raise bad_request(f"Guests cannot be granted {', '.join(found)}")
