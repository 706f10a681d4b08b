"""The permission catalogue the tool knows offline: Cloud's documented ids, the default roles' sets, and
Data Center's operation/target pairs with their mapping from Cloud ids; and who counts as a space admin.

Online, the site's own catalogue and role list win; these are for offline validation, the sandbox's seeds
and the Data Center compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TypeVar

from reconciler.model import ADMIN_ROLE, ADMINISTER_SPACE

P = TypeVar("P")  # a principal

# The permission ids the tool knows offline: the documented v1 key/target pairs (confluence-api.md §2.2),
# which are also the RBAC catalogue ids' spelling. The live catalogue (GET /wiki/api/v2/space-permissions)
# is authoritative when the tool is online; this list is for offline validation only.
KNOWN_PERMISSIONS: tuple[str, ...] = (
    "read/space",
    "create/page",
    "create/blogpost",
    "create/comment",
    "create/attachment",
    "delete/page",
    "delete/blogpost",
    "delete/comment",
    "delete/attachment",
    "delete/space",
    "archive/page",
    "export/space",
    "restrict_content/space",
    "administer/space",
)

# Permissions that change content or settings; anonymous users and guests may not hold them.
# Commenting is deliberately not "write" here: public spaces commonly allow anonymous comments.
WRITE_PERMISSIONS: frozenset[str] = frozenset(KNOWN_PERMISSIONS) - {
    "read/space", "create/comment", "export/space",
} | {"delete_own/space", "delete_mail/space", "restrict/space"}  # and the Data Center-only names

# What a guest may never hold (confluence-api.md §6.4): space admin, export space, restrictions.
GUEST_FORBIDDEN: frozenset[str] = frozenset({"administer/space", "export/space", "restrict_content/space"})

# Permission sets of the four default roles, as the sandbox seeds them and as offline checks assume.
# UNVERIFIED against a live site (confluence-api.md "Default role UUIDs"): the live role list wins online.
DEFAULT_ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = {
    "Viewer": frozenset({"read/space", "create/comment"}),
    "Collaborator": frozenset(
        {
            "read/space", "create/comment", "create/page", "create/blogpost", "create/attachment",
            "delete/space",
        }
    ),
    "Manager": frozenset(
        {
            "read/space", "create/comment", "create/page", "create/blogpost", "create/attachment",
            "delete/space", "delete/page", "delete/blogpost", "delete/comment", "delete/attachment",
            "archive/page", "export/space", "restrict_content/space",
        }
    ),
    "Admin": frozenset(KNOWN_PERMISSIONS),
}
DEFAULT_ROLE_DESCRIPTIONS: Mapping[str, str] = {
    "Admin": "Manages everything in the space",
    "Manager": "Manages people and content but not settings",
    "Collaborator": "Adds and edits content",
    "Viewer": "Views and comments",
}


# ------------------------------------------------------------------------------------- Data Center facts

# The 14 operation/target pairs DC REST accepts (evidence/datacenter.md A.5: GEN-TS, APA docstrings).
DC_PERMISSIONS: tuple[str, ...] = (
    "read/space", "create/page", "create/blogpost", "create/comment", "create/attachment",
    "delete/page", "delete/blogpost", "delete/comment", "delete/attachment", "delete_own/space",
    "delete_mail/space", "export/space", "restrict/space", "administer/space",
)
# Cloud ids whose DC pair has another name; ``archive/page`` has none (A.5).
CLOUD_TO_DC: Mapping[str, str] = {
    "delete/space": "delete_own/space",
    "restrict_content/space": "restrict/space",
}
DC_MISSING: frozenset[str] = frozenset({"archive/page"})


def compile_role_for_dc(permissions: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """A role's permissions as DC pairs, and the ones DC does not have (left out, shown on the plan)."""
    dropped = permissions & DC_MISSING
    return frozenset(CLOUD_TO_DC.get(p, p) for p in permissions - dropped), dropped


# ------------------------------------------------------------------------------------------ admins


def space_admins(
    roles: Mapping[P, str],
    grants: Mapping[P, Collection[str]],
    permissions_of: Callable[[str], Collection[str] | None],
) -> frozenset[P]:
    """Who is an admin of a space: the one definition, wherever the tool counts admins (``validate``,
    ``plan`` and ``apply`` safety, ``import``; docs/safety.md "Who counts as an admin").

    A principal is an admin when its role, system or custom, includes ``administer/space``, or when its
    individual permissions do. ``permissions_of`` gives a role's permissions by name (None: unknown, in
    which case only the ``Admin`` role counts). Callers leave the actor out where the rule says "besides
    the actor".
    """
    admins = {p for p, perms in grants.items() if ADMINISTER_SPACE in perms}
    admin_roles = {role for role in set(roles.values()) if _is_admin_role(role, permissions_of(role))}
    if admin_roles:  # each role looked up once, not once per principal holding it
        admins.update([p for p, role in roles.items() if role in admin_roles])
    return frozenset(admins)


def _is_admin_role(role: str, permissions: Collection[str] | None) -> bool:
    return role == ADMIN_ROLE if permissions is None else ADMINISTER_SPACE in permissions
