"""The demo site's data, written to match the example ``policies/`` (docs/sandbox.md lists the differences
the example policy is meant to find).  Principals are written as in policies: ``user:<handle>``,
``group:<name>``, ``class:<access class>``.
"""

from __future__ import annotations

from collections.abc import Mapping

DEMO_CLOUD_ID = "5e1f0c7a-d3b2-4c1e-9a8f-0b1c2d3e4f50"
DEMO_ORG_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"  # policies/data-security.yaml data_security.org_id
SVC_ACCOUNT_ID = "712020:5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

# handle -> (accountId, display name, guest); the first eleven are policies/people.yaml
_OTHERS = (
    "judy",
    "kim",
    "liam",
    "mallory",
    "nora",
    "niaj",
    "olivia",
    "omar",
    "paula",
    "peggy",
    "quinn",
    "rupert",
    "sybil",
    "trent",
    "uma",
    "walter",
    "xena",
    "yusuf",
    "zoe",
)
DEMO_PEOPLE: Mapping[str, tuple[str, str, bool]] = {
    "svc-reconciler": (SVC_ACCOUNT_ID, "Reconciler Service", False),
    "alice": ("5b10ac8d82e05b22cc7d4ef5", "Alice Anders", False),
    "bob": ("5b10ac8d82e05b22cc7d4ef6", "Bob Brandt", False),
    "carol": ("5b10ac8d82e05b22cc7d4ef7", "Carol Chen", False),
    "dave": ("5b10ac8d82e05b22cc7d4ef8", "Dave Diaz", False),
    "erin": ("5b10ac8d82e05b22cc7d4ef9", "Erin Evans", False),
    "frank": ("5b10ac8d82e05b22cc7d4efa", "Frank Fischer", False),
    "heidi": ("5b10ac8d82e05b22cc7d4efb", "Heidi Hansen", False),
    "ivan": ("5b10ac8d82e05b22cc7d4efc", "Ivan Ilic", False),
    "gina": ("5b10a2844c20165700ede21a", "Gina Gast (guest)", True),
    "victor": ("5b10a2844c20165700ede21b", "Victor Vogel (guest)", True),
    **{h: (f"5b10ac8d82e05b22cc7d4f{i:02x}", h.capitalize(), False) for i, h in enumerate(_OTHERS)},
}

# group name -> member handles; ("*staff*",) = every non-guest user
DEMO_GROUPS: Mapping[str, tuple[str, ...]] = {
    "confluence-administrators": ("svc-reconciler", "judy"),
    "all-staff": ("*staff*",),
    "engineering": ("alice", "bob", "carol", "kim", "liam", "niaj", "olivia", "peggy", "rupert"),
    "eng-leads": ("alice", "carol"),
    "hr": ("heidi", "sybil", "trent"),
    "finance": ("frank", "ivan", "uma", "walter"),
    "legal": ("erin", "dave", "xena"),
    "marketing": ("yusuf", "zoe", "nora"),
    "sales": ("omar", "paula", "quinn"),
    "contractors": ("mallory", "quinn", "victor"),  # victor is a guest: guest reach through a group
    "auditors": (),  # an empty group holding access (SALES): its grant reaches nobody
}

# name -> (description, permissions).  "Legal Reviewer" differs from policies/roles.yaml on purpose;
# "Old Auditor" is deleted by the policy (it is assigned nowhere).
DEMO_CUSTOM_ROLES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "Legal Reviewer": ("Reads everything and comments", ("read/space", "create/comment")),
    "Old Auditor": ("Read-only access for the 2023 audit", ("read/space", "export/space")),
}

# key, name, type, status ("{alice}" is alice's accountId: personal space keys are "~<accountId>")
DEMO_SPACES: tuple[tuple[str, str, str, str], ...] = (
    ("ENG", "Engineering", "global", "current"),
    ("OPS", "Operations", "global", "current"),
    ("HR", "People Team", "global", "current"),
    ("FIN", "Finance", "global", "current"),
    ("LEGAL", "Legal", "global", "current"),
    ("PUBLIC", "Acme Public Docs", "global", "current"),
    ("DOCS", "Product Documentation", "global", "current"),
    ("SALES", "Sales", "global", "current"),
    ("MKT", "Marketing", "global", "current"),
    ("SANDBOX", "Sandbox", "global", "current"),
    ("INTRANET", "Old Intranet", "global", "archived"),
    ("~{alice}", "Alice Anders", "personal", "current"),
)

# Role assignments besides group:confluence-administrators and user:svc-reconciler as Admin, which every
# non-personal space has.  "~" is the personal space.
DEMO_ASSIGNMENTS: Mapping[str, Mapping[str, str]] = {
    "ENG": {
        "group:all-staff": "Viewer",
        "group:engineering": "Viewer",
        "group:eng-leads": "Admin",
        "user:bob": "Collaborator",
    },
    "OPS": {"group:all-staff": "Viewer", "group:engineering": "Viewer"},
    "HR": {"group:hr": "Manager", "user:heidi": "Admin"},
    "FIN": {"group:finance": "Collaborator", "user:frank": "Admin", "user:ivan": "Viewer"},
    "LEGAL": {"group:legal": "Collaborator", "user:erin": "Admin", "user:dave": "Legal Reviewer"},
    "PUBLIC": {
        "group:all-staff": "Viewer",
        "class:anonymous-users": "Viewer",
        "group:marketing": "Collaborator",
        "group:sales": "Viewer",
    },
    "DOCS": {"group:all-staff": "Viewer", "group:engineering": "Collaborator", "user:gina": "Viewer"},
    "SALES": {"group:all-staff": "Viewer", "group:sales": "Collaborator", "group:auditors": "Viewer"},
    "MKT": {"group:all-staff": "Viewer", "group:marketing": "Collaborator"},
    "SANDBOX": {
        "group:all-staff": "Viewer",
        "group:engineering": "Collaborator",
        "group:contractors": "Collaborator",
    },
    "INTRANET": {"group:all-staff": "Viewer"},
    "~": {"user:alice": "Admin"},
}

# Legacy ("custom access") permissions: OPS still has group:contractors on read/space only.
DEMO_LEGACY: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "OPS": {"group:contractors": ("read/space",)},
}
