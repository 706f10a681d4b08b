"""Read a whole site for ``reconciler import``: every space (not only a policy's), its users, the actor.

The spaces are read through ``fetch_live`` with a stand-in policy whose one ``defaults`` selector matches
every space (personal spaces only when named with ``--space``), so import sees the site exactly as plan
and drift will: the same calls, group names, and definition of custom access. Users are named through
``GET /wiki/rest/api/user/bulk`` (display name, guest flag); the actor is the account the tool runs as
(``GET /wiki/rest/api/user/current``), else the user who is Admin in the most non-personal spaces, else
``--actor``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.fetch import fetch_live
from reconciler.drift.importer import SiteSnapshot, SiteUser
from reconciler.errors import ApiError, NotFoundError, UsageError
from reconciler.model import (
    ADMIN_ROLE,
    Authority,
    DefaultRule,
    DesiredState,
    LiveState,
    Principal,
    PrincipalKind,
    SafetySettings,
    SiteModel,
    SiteSettings,
    Source,
    SpaceSelector,
)

V1 = "/wiki/rest/api"
USERS_BATCH = 100  # [spec] v1 2025-11 user/bulk: "Currently this API returns a maximum of 100 results"
IMPORTED_TYPES = ("global", "collaboration", "knowledge_base")  # personal spaces only when asked for


def read_site(
    client: ConfluenceClient,
    url: str,
    *,
    spaces: Sequence[str] = (),
    actor: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SiteSnapshot:
    """Everything import writes from: the spaces (all, or ``spaces``), their users, and the actor."""
    live = fetch_live(client, _everything(url, any_type=bool(spaces)), spaces=spaces, progress=progress,
                      list_all=not spaces)
    seen = sorted({p.id for s in live.spaces.values() for p in [*s.assignments, *s.grants]
                   if p.kind is PrincipalKind.USER})
    account = actor or _current_account(client) or _busiest_admin(live)
    if account is None:
        raise UsageError("cannot tell which account the tool runs as (no admin in the imported spaces): "
                         "pass --actor ACCOUNT_ID")
    if progress:
        progress(f"naming {len(seen)} users")
    users = fetch_users(client, sorted(set(seen) | {account}))
    return SiteSnapshot(url=url, live=live, users=users, actor=account)


def _everything(url: str, *, any_type: bool) -> DesiredState:
    """A stand-in policy that manages every space (of the imported types)."""
    selector = SpaceSelector(keys=("*",), types=() if any_type else IMPORTED_TYPES)
    source = Source("<import>", 1)
    return DesiredState(
        site=SiteSettings(url, SiteModel.AUTO, 10, Principal(PrincipalKind.USER, "-"), Authority.EXACT),
        safety=SafetySettings(),
        people={},
        roles={},
        defaults=(DefaultRule("import", selector, (), source),),
        spaces={},
        data_security=None,
        guest_max_role=None,
        drift_ignore=(),
        digest="",
    )


def fetch_users(client: ConfluenceClient, account_ids: Sequence[str]) -> dict[str, SiteUser]:
    """Display name and guest flag of each account (missing accounts are left out)."""
    users: dict[str, SiteUser] = {}
    for start in range(0, len(account_ids), USERS_BATCH):
        batch = account_ids[start : start + USERS_BATCH]
        data = client.get_json(f"{V1}/user/bulk", {"accountId": ",".join(batch)})
        for item in data.get("results", []) if isinstance(data, dict) else []:
            account = item.get("accountId")
            if isinstance(account, str) and account:
                name = item.get("displayName") or item.get("publicName") or ""
                guest = _is_guest(item)
                users[account] = SiteUser(account, str(name), guest)
    return users


def _is_guest(item: dict[str, object]) -> bool:
    """``isGuest`` ([spec] v1 2025-11), else the deprecated ``isExternalCollaborator`` it replaces."""
    if isinstance(item.get("isGuest"), bool):
        return bool(item["isGuest"])
    return bool(item.get("isExternalCollaborator") or item.get("externalCollaborator"))


def _current_account(client: ConfluenceClient) -> str | None:
    try:
        data = client.get_json(f"{V1}/user/current")
    except (NotFoundError, ApiError):
        return None
    account = data.get("accountId") if isinstance(data, dict) else None
    return account if isinstance(account, str) and account else None


def _busiest_admin(live: LiveState) -> str | None:
    """The user who is Admin in the most imported spaces, personal spaces aside (their owner is Admin
    there); ties: the lowest account id."""
    spaces = [s for s in live.spaces.values() if s.info.type != "personal"] or list(live.spaces.values())
    admins = Counter(p.id for s in spaces for p, role in s.assignments.items()
                     if p.kind is PrincipalKind.USER and role == ADMIN_ROLE)
    if not admins:
        return None
    return min(admins, key=lambda account: (-admins[account], account))
