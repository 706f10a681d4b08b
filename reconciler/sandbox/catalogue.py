"""The site's space-permission catalogue (``GET /wiki/api/v2/space-permissions``) and companion rows.

``plain`` sites: the documented v1 key/target pairs (confluence-api.md §2.2), so a role's permissions and a
legacy grant use one vocabulary.  ``live`` sites (docs/sandbox.md, "The live vocabulary") add the ids live
permission reads and catalogues show beyond those pairs ([2nd] folio-sec overlay
``api/confluence/v2/overlay.yaml``; migration notes; confluence.js live tests).  Every permission but
``read/space`` requires ``read/space``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.model import READ_SPACE
from reconciler.permissions import KNOWN_PERMISSIONS

if TYPE_CHECKING:
    from reconciler.sandbox.state import SiteState

_NAMES: dict[str, tuple[str, str]] = {
    "read/space": ("View space", "View the space and its content"),
    "create/page": ("Add pages", "Create pages in the space"),
    "create/blogpost": ("Add blogs", "Create blog posts in the space"),
    "create/comment": ("Add comments", "Comment on pages and blog posts"),
    "create/attachment": ("Add attachments", "Attach files to pages and blog posts"),
    "delete/page": ("Delete pages", "Delete any page in the space"),
    "delete/blogpost": ("Delete blogs", "Delete any blog post in the space"),
    "delete/comment": ("Delete comments", "Delete any comment in the space"),
    "delete/attachment": ("Delete attachments", "Delete any attachment in the space"),
    "delete/space": ("Delete own", "Delete content the user created"),
    "archive/page": ("Archive pages", "Archive pages in the space"),
    "export/space": ("Export space", "Export the space's content"),
    "restrict_content/space": ("Add/Delete restrictions", "Restrict who may view or edit content"),
    "administer/space": ("Space admin", "Manage the space's settings and permissions"),
}

# Ids seen live beyond the v1 pairs ([2nd] folio-sec overlay: operation keys export_content, archive_space,
# delete_space, manage_content, manage_guest_users, manage_look_and_feel, manage_nonlicensed_users,
# manage_public_links, manage_templates, manage_users; migration notes: update/page).  Which four are the
# 2026 "split" permissions is not known: the tool must read them from the catalogue, never hard-code them.
LIVE_ONLY: dict[str, tuple[str, str]] = {
    "update/page": ("Edit pages", "Edit pages in the space"),
    "update/blogpost": ("Edit blogs", "Edit blog posts in the space"),
    "export_content/space": ("Export content", "Export pages and blog posts"),
    "archive_space/space": ("Archive space", "Archive the space"),
    "delete_space/space": ("Delete space", "Delete the space"),
    "manage_content/space": ("Manage content", "Move, copy and reorder content"),
    "manage_users/space": ("Manage users", "Manage who has access to the space"),
    "manage_guest_users/space": ("Manage guests", "Manage guests' access to the space"),
    "manage_nonlicensed_users/space": ("Manage unlicensed users", "Manage unlicensed users' access"),
    "manage_public_links/space": ("Manage public links", "Turn public links on or off"),
    "manage_templates/space": ("Manage templates", "Create and edit the space's templates"),
    "manage_look_and_feel/space": ("Manage look and feel", "Change the space's look and feel"),
}

# A v1 grant of the key also creates the value as a separate row; revoking the key takes it with it
# ([2nd] migration notes: "a v1 read/space grant appears in v2 as TWO rows"; folio-sec
# principal_permissions_resource.go companionProducers; audit §0.3).
COMPANIONS: dict[str, tuple[str, ...]] = {
    "read/space": ("export_content/space",),
    "create/page": ("update/page",),
    "administer/space": ("manage_users/space",),
}


def _entry(perm: str, names: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": perm,
        "displayName": names[0],
        "description": names[1],
        "requiredPermissionIds": [] if perm == READ_SPACE else [READ_SPACE],
    }


PLAIN: list[dict[str, Any]] = [_entry(perm, _NAMES[perm]) for perm in KNOWN_PERMISSIONS]
LIVE: list[dict[str, Any]] = PLAIN + [_entry(perm, names) for perm, names in LIVE_ONLY.items()]


def catalogue(state: SiteState) -> list[dict[str, Any]]:
    return LIVE if state.vocabulary == "live" else PLAIN


def catalogue_ids(state: SiteState) -> frozenset[str]:
    return frozenset(entry["id"] for entry in catalogue(state))


def companions_of(perm_id: str) -> tuple[str, ...]:
    return COMPANIONS.get(perm_id, ())
