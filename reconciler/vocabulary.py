"""What the tool knows offline about Confluence Cloud's permission vocabulary, each fact with its source.

- ``DOCUMENTED``: the v1 key/target pairs (confluence-api.md §2.2; [spec] v1 ``SpacePermissionRequest``),
  the only ids a legacy (v1) grant can carry, and the spelling of the RBAC catalogue's ids.
- ``OBSERVED_LIVE``: ids third parties saw in live catalogues and permission reads beyond those pairs ([2nd]
  folio-sec overlay, migration notes, confluence.js live tests). The 2026 split permissions are among them
  or newer still: a role may use any id the site's catalogue (``GET /space-permissions``) lists, and plan
  checks role ids against that live catalogue; this list only lets ``validate`` tell a typo from a newer id.
- ``COMPANIONS``: a v1 grant of the key also creates rows of the values, removed with it ([2nd] migration
  notes; folio-sec ``companionProducers``). UNVERIFIED beyond those observations: correct it here only.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import replace

from reconciler.live_state import LiveSpace, LiveState
from reconciler.model import Principal, PrincipalKind
from reconciler.permissions import KNOWN_PERMISSIONS

DOCUMENTED: frozenset[str] = frozenset(KNOWN_PERMISSIONS)
OBSERVED_LIVE: frozenset[str] = frozenset({
    "update/page", "update/blogpost", "export_content/space", "archive_space/space", "delete_space/space",
    "manage_content/space", "manage_users/space", "manage_guest_users/space",
    "manage_nonlicensed_users/space", "manage_public_links/space", "manage_templates/space",
    "manage_look_and_feel/space",
})
KNOWN: frozenset[str] = DOCUMENTED | OBSERVED_LIVE

COMPANIONS: Mapping[str, frozenset[str]] = {
    "read/space": frozenset({"export_content/space"}),
    "create/page": frozenset({"update/page"}),
    "administer/space": frozenset({"manage_users/space"}),
}
COMPANION_IDS: frozenset[str] = frozenset().union(*COMPANIONS.values())

APP_ACCOUNT_TYPE = "app"  # [spec] v1 AccountTypeEnum: "App is if the user is a bot user created on behalf
#                           of an Atlassian app."


def companions(held: Iterable[str]) -> frozenset[str]:
    """The ids among ``held`` (one principal's rows in one space) that are companions of another id held."""
    ids = frozenset(held)
    return frozenset(c for producer in ids & COMPANIONS.keys() for c in COMPANIONS[producer] if c in ids)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The id most like ``word`` (a typo's intended id), or None."""
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return found[0] if found else None


def is_app(principal: Principal, live: LiveState) -> bool:
    """Whether ``principal`` is an installed app's user (as ``GET /user/bulk`` said at the read)."""
    apps = live.accounts.apps if live.accounts is not None else frozenset()
    return principal.kind is PrincipalKind.USER and principal.id in apps


def without_apps(live: LiveState) -> LiveState:
    """The live state with apps' users left out of every space (import never writes them into a policy)."""
    if live.accounts is None or not live.accounts.apps:
        return live

    def keep(space: LiveSpace) -> LiveSpace:
        return replace(
            space,
            assignments={p: r for p, r in space.assignments.items() if not is_app(p, live)},
            grants={p: g for p, g in space.grants.items() if not is_app(p, live)},
            duplicates={p: d for p, d in space.duplicates.items() if not is_app(p, live)},
            companions={p: c for p, c in space.companions.items() if not is_app(p, live)},
        )

    return replace(live, spaces={key: keep(space) for key, space in live.spaces.items()})
