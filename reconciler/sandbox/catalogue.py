"""The site's space-permission catalogue (``GET /wiki/api/v2/space-permissions``).

Its ids are the documented v1 key/target pairs (confluence-api.md §2.2), so a role's permissions and a
legacy grant use one vocabulary.  Every permission but ``read/space`` requires ``read/space``.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import KNOWN_PERMISSIONS, READ_SPACE

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

CATALOGUE: list[dict[str, Any]] = [
    {
        "id": perm,
        "displayName": _NAMES[perm][0],
        "description": _NAMES[perm][1],
        "requiredPermissionIds": [] if perm == READ_SPACE else [READ_SPACE],
    }
    for perm in KNOWN_PERMISSIONS
]
