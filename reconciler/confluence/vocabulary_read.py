"""The parts of the Cloud read that make sense of the live vocabulary (issue 12, items 3 and 4).

- ``split_rows``: one principal's permission rows in one space -> grants (one id per permission, the
  lowest), the other rows of a permission held more than once, and the companion rows a v1 grant brought
  with it (``reconciler.vocabulary.COMPANIONS``), which are part of that grant, never grants of their own;
- ``AccountBook``: ``GET /wiki/rest/api/user/bulk`` in batches of 100 (the documented maximum), side by
  side (``_bulk``), for the account ids seen and named, each asked for once per run: which are apps'
  users (``accountType: app``) and which the site does not have;
- ``fetch_users``: display name and guest flag of the accounts a report names (same call, same batches);
  ``fetch_current_account``: the account id the client runs as;
- ``fetch_caller``: the account the tool runs as (``GET /user/current?expand=operations``): product admin
  or not (the ``administer``/``application`` operation: an inference, unverified), and its groups.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.backend import SiteUser
from reconciler.confluence.read_protocol import Reader
from reconciler.errors import ApiError, NotFoundError
from reconciler.live_state import Accounts, Caller
from reconciler.vocabulary import APP_ACCOUNT_TYPE, companions

V1 = "/wiki/rest/api"
USERS_BATCH = 100  # [spec] v1 2025-11 user/bulk: "Currently this API returns a maximum of 100 results"
GROUPS_PAGE = 200


def split_rows(
    rows: Mapping[str, Sequence[int]],
) -> tuple[dict[str, int], dict[str, tuple[int, ...]], dict[str, int]]:
    """(grants, duplicates, companions) of one principal's rows in one space (permission -> row ids)."""
    came_with = companions(rows)
    grants: dict[str, int] = {}
    duplicates: dict[str, tuple[int, ...]] = {}
    found: dict[str, int] = {}
    for permission, ids in sorted(rows.items()):
        first, *others = sorted(ids)
        if permission in came_with:
            found[permission] = first
            continue
        grants[permission] = first
        if others:
            duplicates[permission] = tuple(others)
    return grants, duplicates, found


class AccountBook:
    """What the site said of each account looked up in one run: an app's user, a user, or missing.

    The plan's read looks up the policy's accounts once the policy loaded, while the spaces are still
    being read (``look_up_ahead``, from ``flows/overlap.py``), so the finish asks only for the accounts
    seen live that the policy does not name, usually none: the lookup's round trip is off the end of the
    read (docs/performance.md). Thread-safe; an account the book knows is not asked for again (one that a
    failed lookup left unknown is, and two lookups running at once may both ask)."""

    def __init__(self) -> None:
        self._kinds: dict[str, str] = {}  # account id -> "app" | "user" | "missing"
        self._seen: set[str] = set()  # accounts the reads found in spaces so far (``saw``)
        self._lock = threading.Lock()

    def saw(self, account_ids: Iterable[str]) -> None:
        """Accounts a space read found (the reads note each space as it arrives)."""
        with self._lock:
            self._seen.update(account_ids)

    def look_up_ahead(self, client: Reader, account_ids: Iterable[str]) -> None:
        """Look up ``account_ids`` (the policy's) and the accounts seen so far, before the finish needs
        them; not when the spaces read so far hold an account outside ``account_ids``: that site has
        accounts the policy does not name (access granted by hand, an additive policy), the finish asks
        for them anyway, and asking for all at once then costs no call more than asking at the end."""
        wanted = set(account_ids)
        with self._lock:
            if not self._seen <= wanted:
                return
        self.look_up(client, wanted)

    def look_up(self, client: Reader, account_ids: Iterable[str]) -> None:
        """Ask the site about the accounts not known yet (``user/bulk``, 100 a call, side by side)."""
        with self._lock:
            wanted = sorted(set(account_ids).difference(self._kinds))
        for batch, items in _bulk(client, wanted):
            kinds = {item["accountId"]: "app" if item.get("accountType") == APP_ACCOUNT_TYPE else "user"
                     for item in items}
            with self._lock:
                self._kinds.update(dict.fromkeys(batch, "missing"))
                self._kinds.update(kinds)

    def accounts(self, client: Reader, account_ids: Iterable[str]) -> Accounts:
        """Apps' users and missing accounts among ``account_ids`` (those not known yet are looked up)."""
        wanted = set(account_ids)
        self.look_up(client, wanted)
        with self._lock:
            kinds = {ident: self._kinds[ident] for ident in wanted}
        return Accounts(apps=frozenset(i for i, kind in kinds.items() if kind == "app"),
                        missing=frozenset(i for i, kind in kinds.items() if kind == "missing"))


def _bulk(client: Reader, account_ids: Sequence[str]) -> list[tuple[Sequence[str], list[dict[str, Any]]]]:
    """``GET user/bulk`` for ``account_ids``, 100 a call, the calls side by side: (the ids asked, the
    accounts the site answered with, those with a non-empty ``accountId`` string) per call, in order."""
    batches = [account_ids[start:start + USERS_BATCH] for start in range(0, len(account_ids), USERS_BATCH)]

    def ask(batch: Sequence[str]) -> list[dict[str, Any]]:
        data = client.get_json(f"{V1}/user/bulk", {"accountId": ",".join(batch)})
        results = data.get("results", []) if isinstance(data, dict) else []
        return [item for item in results
                if isinstance(item, dict) and isinstance(item.get("accountId"), str) and item["accountId"]]

    return list(zip(batches, client.map_concurrently(ask, batches), strict=True))


def fetch_caller(client: Reader) -> Caller | None:
    """The account the tool runs as, or None when the site does not say."""
    data = client.get_json(f"{V1}/user/current", {"expand": "operations"})
    account = data.get("accountId") if isinstance(data, dict) else None
    if not isinstance(account, str) or not account:
        return None
    operations = {(o.get("operation"), o.get("targetType")) for o in data.get("operations") or []
                  if isinstance(o, dict)}
    admin = ("administer", "application") in operations
    if admin:
        return Caller(account, True)
    groups = client.paginate_v1(f"{V1}/user/memberof", {"accountId": account, "limit": GROUPS_PAGE})
    names = frozenset(str(g["name"]) for g in groups if isinstance(g, dict) and "name" in g)
    return Caller(account, False, names)


def fetch_users(client: Reader, account_ids: Sequence[str]) -> dict[str, SiteUser]:
    """Display name and guest flag of each account (``GET /wiki/rest/api/user/bulk``, 100 a call, side by
    side; missing accounts are left out)."""
    return {item["accountId"]: SiteUser(item["accountId"],
                                        str(item.get("displayName") or item.get("publicName") or ""),
                                        _is_guest(item))
            for _batch, items in _bulk(client, account_ids) for item in items}


def _is_guest(item: dict[str, object]) -> bool:
    """``isGuest`` ([spec] v1 2025-11), else the deprecated ``isExternalCollaborator`` it replaces."""
    if isinstance(item.get("isGuest"), bool):
        return bool(item["isGuest"])
    return bool(item.get("isExternalCollaborator") or item.get("externalCollaborator"))


def fetch_current_account(client: Reader) -> str | None:
    """The account the client runs as (``GET /wiki/rest/api/user/current``), when the site says."""
    try:
        data = client.get_json(f"{V1}/user/current")
    except (NotFoundError, ApiError):
        return None
    account = data.get("accountId") if isinstance(data, dict) else None
    return account if isinstance(account, str) and account else None
