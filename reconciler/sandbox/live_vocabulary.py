"""The live vocabulary: what a real 2026 Cloud site shows that a clean model of the API does not.

Each item comes from third-party live observation ([2nd]; docs/evidence/cloud-fidelity-audit.md §1.4, §2.B):

- **app users** (``accountType: app``) holding many permissions on every space: "A NEW space grants every
  installed app user ~27 permissions" (migration notes). Here: every catalogue id, one row each;
- **companion rows**: a v1 grant also creates rows of other ids (``catalogue.COMPANIONS``), removed with it;
- **the wider catalogue** from ``GET /space-permissions`` (``catalogue.LIVE_ONLY``);
- **duplicate rows** with distinct ids for one principal and permission ("v2 also returns distinct grant ids
  for duplicate principal+operation pairs");
- **access-class principals** in permission reads (folio-sec overlay).

``apply(state, extras)`` adds them to a seeded state and marks it ``vocabulary = "live"`` (so later v1 grants
create companions and roles may use any catalogue id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.sandbox.catalogue import LIVE, companions_of
from reconciler.sandbox.rules import add_row
from reconciler.sandbox.state import PrincipalKey, SiteState, User

# (accountId, display name): installed apps' users. The ids have the shape of real app account ids.
APP_USERS: tuple[tuple[str, str], ...] = (
    ("557058:2b5e6f50-0c1d-4e2f-9a3b-4c5d6e7f8091", "Jira Cloud"),
    ("557058:3c6f7061-1d2e-4f30-8b4c-5d6e7f8091a2", "Slack for Confluence"),
    ("557058:4d708172-2e3f-4041-9c5d-6e7f8091a2b3", "Draw.io Diagrams"),
)


@dataclass(frozen=True)
class Extras:
    """Seed-specific rows beyond the app users: ``(space key, principal, permission)`` each; a group may be
    given by name as ``("GROUP", "@name")``."""

    duplicates: Sequence[tuple[str, PrincipalKey, str]] = ()  # one more row of a permission already held
    rows: Sequence[tuple[str, PrincipalKey, str]] = ()  # grants (with their companions), e.g. access classes
    apps: int = len(APP_USERS)


def apply(state: SiteState, extras: Extras = Extras()) -> SiteState:
    state.vocabulary = "live"
    apps = APP_USERS[: extras.apps]
    for account_id, name in apps:
        state.users[account_id] = User(account_id, name, "", None, account_type="app")
    for space in state.spaces.values():
        for account_id, _ in apps:
            for entry in LIVE:
                add_row(state, space, ("USER", account_id), entry["id"])
    for key, principal, perm in extras.rows:
        target = state.space_by_key(key)
        assert target is not None, key
        producer = add_row(state, target, _resolve(state, principal), perm)
        for companion in companions_of(perm):
            add_row(state, target, producer.principal, companion, producer=producer.id)
    for key, principal, perm in extras.duplicates:
        target = state.space_by_key(key)
        assert target is not None, key
        add_row(state, target, _resolve(state, principal), perm)
    _add_companions_of_seeded_grants(state)
    return state


def _add_companions_of_seeded_grants(state: SiteState) -> None:
    """The seed's own legacy grants were made by v1 calls on a real site: give them their companions."""
    app_ids = {account_id for account_id, _ in APP_USERS}
    for space in state.spaces.values():
        for perm in list(space.permissions.values()):
            if perm.producer is not None or perm.principal[1] in app_ids:
                continue
            held = {p.perm_id for p in space.permissions.values() if p.principal == perm.principal}
            for companion in companions_of(perm.perm_id):
                if companion not in held:
                    add_row(state, space, perm.principal, companion, producer=perm.id)


def _resolve(state: SiteState, principal: PrincipalKey) -> PrincipalKey:
    kind, ident = principal
    if kind == "GROUP" and ident.startswith("@"):
        group = state.group_by_name(ident[1:])
        assert group is not None, ident
        return (kind, group.id)
    return principal
