"""Who may see and do what on a sandbox site, and the write rules of confluence-api.md §2-§3.

Pure functions over :class:`~reconciler.sandbox.state.SiteState`; they raise
:class:`~reconciler.sandbox.failures.HttpError` with the documented status codes.  Callers hold the site lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.model import ACCESS_CLASSES, ADMINISTER_SPACE, READ_SPACE
from reconciler.permissions import GUEST_FORBIDDEN, KNOWN_PERMISSIONS
from reconciler.sandbox import unverified
from reconciler.sandbox.catalogue import catalogue_ids, companions_of
from reconciler.sandbox.failures import bad_request, not_found
from reconciler.sandbox.faults import Knobs
from reconciler.sandbox.state import Permission, PrincipalKey, Role, RoleTask, SiteState, Space, User

PRINCIPAL_TYPES = ("USER", "GROUP", "ACCESS_CLASS")
ANONYMOUS: PrincipalKey = ("ACCESS_CLASS", "anonymous-users")
RBAC_REFUSAL = (
    "InvalidRbacOperationException: Space permission updates that are not from RBAC are not supported "
    "in roles-only mode"
)
VALID_PAIRS: frozenset[str] = frozenset(KNOWN_PERMISSIONS)  # the documented v1 key/target table


# ----------------------------------------------------------------------------------------- visibility
def principal_matches(state: SiteState, user: User, principal: PrincipalKey) -> bool:
    """Whether ``principal`` (as assigned or granted in a space) includes ``user``."""
    ptype, pid = principal
    if ptype == "USER":
        return pid == user.account_id
    if ptype == "GROUP":
        return pid in state.member_of(user.account_id)
    if pid == "anonymous-users":
        return True
    if pid in ("authenticated-users", "all-licensed-users"):
        return not user.guest
    if pid == "all-product-admins":
        return is_site_admin(state, user)
    return False


def is_site_admin(state: SiteState, user: User) -> bool:
    admins = state.group_by_name("confluence-administrators")
    return user.site_admin or (admins is not None and user.account_id in admins.members)


def caller_permissions(state: SiteState, user: User, space: Space) -> set[str]:
    perms: set[str] = set()
    for principal, role_id in space.assignments.items():
        if role_id in state.roles and principal_matches(state, user, principal):
            perms.update(state.roles[role_id].permissions)
    for perm in space.permissions.values():
        if principal_matches(state, user, perm.principal):
            perms.add(perm.perm_id)
    return perms


def can_view(state: SiteState, user: User, space: Space, hidden: Iterable[str] = ()) -> bool:
    """Site admins see every space (as in the admin console); others need ``read/space``."""
    if space.key in set(hidden):
        return False
    return is_site_admin(state, user) or READ_SPACE in caller_permissions(state, user, space)


def is_space_admin(state: SiteState, user: User, space: Space) -> bool:
    return ADMINISTER_SPACE in caller_permissions(state, user, space)


def admin_holders(state: SiteState, space: Space) -> set[PrincipalKey]:
    holders = {
        p
        for p, role in space.assignments.items()
        if role in state.roles and ADMINISTER_SPACE in state.roles[role].permissions
    }
    holders.update(p.principal for p in space.permissions.values() if p.perm_id == ADMINISTER_SPACE)
    return holders


# ------------------------------------------------------------------------------------------ principals
def check_principal(state: SiteState, principal: PrincipalKey) -> None:
    ptype, pid = principal
    if ptype not in PRINCIPAL_TYPES:
        raise bad_request(f"Invalid principal type '{ptype}': expected one of USER, GROUP, ACCESS_CLASS")
    if ptype == "USER" and pid not in state.users:
        raise bad_request(f"No user found with accountId '{pid}'")
    if ptype == "GROUP" and pid not in state.groups:
        raise bad_request(f"No group found with id '{pid}'")
    if ptype == "ACCESS_CLASS" and pid not in ACCESS_CLASSES:
        raise bad_request(f"Invalid access class '{pid}': expected one of {', '.join(ACCESS_CLASSES)}")


def is_guest(state: SiteState, principal: PrincipalKey) -> bool:
    return principal[0] == "USER" and principal[1] in state.users and state.users[principal[1]].guest


def check_guest(state: SiteState, principal: PrincipalKey, perms: Iterable[str]) -> None:
    """A guest cannot get admin, export or restrictions by a legacy grant (docs/sandbox.md, Guests)."""
    forbidden = sorted(GUEST_FORBIDDEN.intersection(perms))
    if is_guest(state, principal) and forbidden:
        raise bad_request(f"Guests cannot be granted {', '.join(forbidden)}")


# --------------------------------------------------------------------------------- v1 legacy writes
def refuse_in_roles_mode(state: SiteState) -> None:
    if state.mode == "ROLES":
        raise bad_request(RBAC_REFUSAL)


def v1_subject(state: SiteState, subject: object) -> PrincipalKey:
    """``{"type": "user"|"group", "identifier": ...}`` -> principal (groups by id or by name)."""
    if not isinstance(subject, dict) or not isinstance(subject.get("identifier"), str):
        raise bad_request("subject must be an object with 'type' and 'identifier'")
    kind, ident = subject.get("type"), subject["identifier"]
    if kind == "user":
        if ident == "anonymous":
            return ANONYMOUS
        if ident not in state.users:
            raise bad_request(f"No user found with the given accountId: {ident}")
        return ("USER", ident)
    if kind == "group":
        group = state.groups.get(ident) or state.group_by_name(ident)
        if group is None:
            raise bad_request("No group found with the given groupName or groupId")
        return ("GROUP", group.id)
    raise bad_request(f"Invalid subject type '{kind}': expected 'user' or 'group'")


def v1_grant(state: SiteState, space: Space, principal: PrincipalKey, key: str, target: str) -> Permission:
    perm_id = f"{key}/{target}"
    if perm_id not in VALID_PAIRS:
        raise bad_request(f"Invalid operation: '{key}' is not a valid operation for target '{target}'")
    check_guest(state, principal, [perm_id])
    if principal == ANONYMOUS and perm_id == ADMINISTER_SPACE:
        raise bad_request("Anonymous users cannot be granted administer/space")
    held = {p.perm_id for p in space.permissions.values() if p.principal == principal}
    if perm_id in held:
        raise bad_request("Permission already exists for the given user or group.")
    if perm_id != READ_SPACE and READ_SPACE not in held:
        raise bad_request("'read space' permission doesn't exist for the given user or group.")
    perm = add_row(state, space, principal, perm_id)
    if state.vocabulary == "live":
        for companion in companions_of(perm_id):
            add_row(state, space, principal, companion, producer=perm.id)
    return perm


def add_row(
    state: SiteState, space: Space, principal: PrincipalKey, perm_id: str, producer: int | None = None
) -> Permission:
    """One permission row with the next site-wide id (``producer``: the grant a companion row came with)."""
    key, _, target = perm_id.partition("/")
    perm = Permission(state.next_permission_id, principal, key, target, producer)
    state.next_permission_id += 1
    space.permissions[perm.id] = perm
    return perm


def v1_revoke(state: SiteState, space: Space, permission_id: int) -> list[int]:
    """Remove one permission and the companion rows it produced; removing ``read/space`` removes all of
    that principal's rows.  Returns the ids gone."""
    perm = space.permissions.get(permission_id)
    if perm is None:
        raise not_found(f"No permission with id {permission_id} in space {space.key}")
    if perm.perm_id == READ_SPACE:
        gone = [p.id for p in space.permissions.values() if p.principal == perm.principal]
    else:
        gone = [perm.id] + [p.id for p in space.permissions.values() if p.producer == perm.id]
    before = admin_holders(state, space)
    removed = {i: space.permissions.pop(i) for i in gone}
    if before and not admin_holders(state, space):
        space.permissions.update(removed)
        raise bad_request("All of the admin permissions cannot be removed from a space.")
    return gone


# ------------------------------------------------------------------------------- v2 role assignments
def set_assignments(
    state: SiteState, space: Space, entries: Sequence[tuple[PrincipalKey, str | None]], knobs: Knobs
) -> None:
    """Apply all entries or none: a role assigns (replacing any other role), ``None`` removes."""
    seen: set[PrincipalKey] = set()
    for principal, role_id in entries:
        check_principal(state, principal)
        unverified.refuse_duplicate(knobs, principal, seen)
        seen.add(principal)
        if role_id is not None:
            role = state.roles.get(role_id)
            if role is None:
                raise bad_request(f"No space role found with id '{role_id}'")
            unverified.guest_role_check(
                knobs, is_guest(state, principal), GUEST_FORBIDDEN.intersection(role.permissions)
            )
    before_admins = bool(admin_holders(state, space))
    saved_assignments, saved_permissions = dict(space.assignments), dict(space.permissions)
    for principal, role_id in entries:
        if role_id is None:
            space.assignments.pop(principal, None)
            continue
        space.assignments[principal] = role_id
        if knobs.assignment_clears_permissions:
            for perm in [p for p in space.permissions.values() if p.principal == principal]:
                del space.permissions[perm.id]  # a principal on a role is no longer on custom access
    try:
        unverified.guard_last_admin(knobs, space, before_admins, bool(admin_holders(state, space)))
    except Exception:
        space.assignments, space.permissions = saved_assignments, saved_permissions
        raise


# ------------------------------------------------------------------------------------------ role CRUD
def validate_role_body(state: SiteState, body: object, *, role_id: str | None) -> tuple[str, str, list[str]]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    name, description, perms = body.get("name"), body.get("description"), body.get("spacePermissions")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("'name' is required and must be a non-empty string")
    if not isinstance(description, str):
        raise bad_request("'description' is required and must be a string")
    if not isinstance(perms, list) or not perms or not all(isinstance(p, str) for p in perms):
        raise bad_request("'spacePermissions' is required and must be a non-empty array of permission ids")
    unknown = sorted(set(perms) - catalogue_ids(state))
    if unknown:
        raise bad_request(f"Unknown space permission ids: {', '.join(unknown)}")
    if READ_SPACE not in perms:
        raise bad_request("Every space permission requires read/space")
    other = state.role_by_name(name)
    if other is not None and other.id != role_id:
        raise bad_request(f"A space role named '{other.name}' already exists")
    return name, description, sorted(set(perms))


def role_for_update(state: SiteState, role_id: str) -> None:
    role = state.roles.get(role_id)
    if role is None:
        raise not_found(f"No space role found with id '{role_id}'")
    if role.type == "SYSTEM":
        raise bad_request(f"The system role '{role.name}' cannot be changed or deleted")


def reassign_role_holders(state: SiteState, role_id: str, target_id: object, *, guests: bool) -> None:
    """Move the anonymous (or guest) assignments of one role to another (``*ReassignmentRoleId``)."""
    if target_id is None:
        return
    if not isinstance(target_id, str) or target_id not in state.roles:
        raise bad_request(f"No space role found with id '{target_id}'")
    for space in state.spaces.values():
        for principal, held in list(space.assignments.items()):
            is_guest = (
                principal[0] == "USER" and principal[1] in state.users and state.users[principal[1]].guest
            )
            if held == role_id and (is_guest if guests else principal == ANONYMOUS):
                space.assignments[principal] = target_id


def delete_role(state: SiteState, role_id: str, knobs: Knobs, task_id: str) -> None:
    """Validate a deletion now; it takes effect as a task (``role_task_lag`` requests later)."""
    role_for_update(state, role_id)
    unverified.refuse_assigned_role_delete(knobs, state, role_id)
    state.tasks.append(RoleTask(task_id, "delete", role_id, {}, knobs.role_task_lag))


CUSTOM_ROLE_LIMIT = 10  # "You can create up to 10 custom roles in Confluence."


def create_role(state: SiteState, body: object, new_id: str, knobs: Knobs) -> Role:
    name, description, perms = validate_role_body(state, body, role_id=None)
    if sum(1 for role in state.roles.values() if role.type == "CUSTOM") >= CUSTOM_ROLE_LIMIT:
        raise unverified.custom_role_limit(knobs, CUSTOM_ROLE_LIMIT)
    role = Role(new_id, "CUSTOM", name, description, perms)
    state.roles[new_id] = role
    return role


def update_role(state: SiteState, role_id: str, body: object, knobs: Knobs, task_id: str) -> Role | None:
    """Validate an update.  A change of permissions or a reassignment becomes a task (``role_task_lag``
    requests later) and the role as it will be is returned; a change of name or description only is made
    at once and ``None`` returned (its answer has a null ``taskId``, [2nd] folio-sec role_service.go)."""
    role_for_update(state, role_id)
    name, description, perms = validate_role_body(state, body, role_id=role_id)
    assert isinstance(body, dict)  # checked by validate_role_body
    targets: dict[str, str] = {}
    for field_name in ("anonymousReassignmentRoleId", "guestReassignmentRoleId"):
        target = body.get(field_name)
        if target is not None and (not isinstance(target, str) or target not in state.roles):
            raise bad_request(f"No space role found with id '{target}' ({field_name})")
        if isinstance(target, str):
            targets[field_name] = target
    role = state.roles[role_id]
    if sorted(role.permissions) == perms and not targets:
        role.name, role.description = name, description
        return None
    change = {"name": name, "description": description, "spacePermissions": perms, **targets}
    state.tasks.append(RoleTask(task_id, "update", role_id, change, knobs.role_task_lag))
    return Role(role.id, role.type, name, description, perms)


def run_task(state: SiteState, task: RoleTask) -> None:
    """Carry out an accepted role task (the role may have gone meanwhile: then nothing happens)."""
    role = state.roles.get(task.role_id)
    if role is None:
        return
    if task.op == "delete":
        del state.roles[task.role_id]
        return
    change = task.change
    for field_name, guests in (("anonymousReassignmentRoleId", False), ("guestReassignmentRoleId", True)):
        if change.get(field_name) in state.roles:
            reassign_role_holders(state, task.role_id, change.get(field_name), guests=guests)
    role.name, role.description = str(change["name"]), str(change["description"])
    role.permissions = list(change["spacePermissions"])
