"""The accounts lookup (``user/bulk``, 100 ids a call): batches side by side, and an account asked for once
per run (``AccountBook``), so the policy's accounts can be looked up while the spaces are still read."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs

import httpx

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.vocabulary_read import AccountBook, fetch_users
from reconciler.live_state import Accounts

APP = "557058:app-0001"


class BulkSite(httpx.BaseTransport):
    """``user/bulk`` answering every id but those starting with ``gone`` (one app: ``APP``). With
    ``together``, each call waits until that many calls are in flight at once (or answers 500)."""

    def __init__(self, together: int = 0) -> None:
        self.asked: list[list[str]] = []
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(together) if together else None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        ids = parse_qs(request.url.query.decode())["accountId"][0].split(",")
        with self._lock:
            self.asked.append(ids)
        if self._barrier is not None:
            try:
                self._barrier.wait(timeout=20)
            except threading.BrokenBarrierError:
                return httpx.Response(500, json={"message": "the batches were not asked side by side"})
        results = [{"accountId": i, "accountType": "app" if i == APP else "atlassian",
                    "displayName": f"N {i}"} for i in ids if not i.startswith("gone")]
        return httpx.Response(200, json={"results": results, "size": len(results)})


def _client(site: BulkSite) -> ConfluenceClient:
    return ConfluenceClient("https://acme.atlassian.net", transport=site, read_only=True, concurrency=4)


def _ids(count: int) -> list[str]:
    return [f"5c{i:022x}" for i in range(1, count + 1)]


def test_the_batches_of_a_large_lookup_are_asked_side_by_side_not_one_after_another() -> None:
    site = BulkSite(together=3)
    wanted = [*_ids(248), APP, "gone-1"]  # 250 ids: 3 calls, none waiting for the one before

    with _client(site) as client:
        accounts = AccountBook().accounts(client, wanted)

    assert accounts == Accounts(apps=frozenset({APP}), missing=frozenset({"gone-1"}))
    assert sorted(len(batch) for batch in site.asked) == [50, 100, 100]


def test_display_names_of_many_accounts_are_read_side_by_side() -> None:
    site = BulkSite(together=2)

    with _client(site) as client:
        users = fetch_users(client, _ids(150))

    assert len(users) == 150
    assert users[_ids(1)[0]].display_name == "N 5c0000000000000000000001"


def test_an_account_looked_up_ahead_is_not_asked_for_again_and_only_the_others_are() -> None:
    site = BulkSite()
    book = AccountBook()
    policy = [*_ids(3), "gone-policy"]

    with _client(site) as client:
        book.look_up(client, policy)  # ahead: the policy's accounts, while the spaces are still read
        accounts = book.accounts(client, {*policy, APP, "gone-live"})  # the finish: the policy's, those seen

    assert site.asked == [sorted(policy), sorted([APP, "gone-live"])]
    assert accounts == Accounts(apps=frozenset({APP}), missing=frozenset({"gone-policy", "gone-live"}))


def test_a_finish_that_needs_no_account_beyond_those_looked_up_ahead_makes_no_call() -> None:
    site = BulkSite()
    book = AccountBook()

    with _client(site) as client:
        book.look_up(client, _ids(5))
        accounts = book.accounts(client, _ids(2))

    assert len(site.asked) == 1
    assert accounts == Accounts()


def test_a_lookup_ahead_also_asks_for_the_accounts_seen_so_far_when_they_are_all_the_policys() -> None:
    site = BulkSite()
    book = AccountBook()
    book.saw(_ids(2))

    with _client(site) as client:
        book.look_up_ahead(client, _ids(3))
        book.saw(_ids(3))
        accounts = book.accounts(client, _ids(3))

    assert site.asked == [_ids(3)]
    assert accounts == Accounts()


def test_no_lookup_ahead_once_the_spaces_read_hold_an_account_the_policy_does_not_name() -> None:
    """That site has accounts outside the policy: the finish asks for them anyway, and asking for all at
    once then costs no more calls than the read made before lookups ahead existed."""
    site = BulkSite()
    book = AccountBook()
    book.saw(["gone-by-hand"])

    with _client(site) as client:
        book.look_up_ahead(client, _ids(3))
        assert site.asked == []
        accounts = book.accounts(client, [*_ids(3), "gone-by-hand"])

    assert site.asked == [sorted([*_ids(3), "gone-by-hand"])]
    assert accounts == Accounts(missing=frozenset({"gone-by-hand"}))
