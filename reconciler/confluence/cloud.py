"""The Confluence Cloud backend: ``reconciler.backend.Backend`` over one site client (and, lazily, one
Admin API client for the org's app access policies). Opened by ``reconciler.flows.connect.Connection``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from reconciler.backend import Progress, ReadRequest, ReadStart, SiteUser
from reconciler.confluence.admin import AdminApi, SiteLookup, read_policies
from reconciler.confluence.admin_apply import RuleWriter
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.members import fetch_group_members
from reconciler.confluence.read import StartedCloudRead, fetch_all_spaces, fetch_roles, read_live, start_read
from reconciler.confluence.vocabulary_read import AccountBook, fetch_current_account, fetch_users
from reconciler.confluence.write import ConfluenceWriter
from reconciler.live_state import GroupMembers, LiveRole, LiveState, SpaceInfo
from reconciler.model import OrgPolicies

T = TypeVar("T")
R = TypeVar("R")


class CloudBackend:
    """One Cloud site for one command: every read and write goes through ``client``; the Admin API client
    is opened by ``open_admin`` the first time app policies are needed, and only once."""

    def __init__(
        self,
        client: ConfluenceClient,
        *,
        open_admin: Callable[[], ConfluenceClient],
        cloud_id: str | None = None,
    ) -> None:
        self.client = client
        self.writer = ConfluenceWriter(client)
        self._open_admin = open_admin
        self._admin: ConfluenceClient | None = None
        self._lookup = SiteLookup(client, cloud_id)
        self._orgs: dict[str, CloudDataSecurity] = {}
        self._accounts = AccountBook()  # what this run's reads learnt of each account (``finish_ahead``)
        self._running: StartedCloudRead | None = None  # the start part under way (``read_start``)

    def on_wait(self, waiting: Callable[[float, str], None] | None) -> None:
        """Say each wait before a retry (seconds, why): the progress display."""
        self.client.on_wait = waiting

    def read(self, request: ReadRequest, progress: Progress | None = None) -> LiveState:
        return read_live(self.client, request, progress, book=self._accounts)

    def finish_ahead(self, request: ReadRequest, *, look_up_accounts: bool) -> None:
        """Begin the finish's work while the start part still reads (``backend.FinishAhead``): convert the
        spaces read so far and each one read after with the request's labels, then (``look_up_accounts``)
        look the request's accounts up (``AccountBook.look_up_ahead``)."""
        running = self._running
        if running is not None:
            running.convert_ahead(request.people)
        if look_up_accounts and (running is None or running.failure is None):  # not for a failed read
            self._accounts.look_up_ahead(self.client, request.accounts)

    def read_start(
        self, start: ReadStart, progress: Progress | None = None, *, stop: Callable[[], bool] | None = None,
        spaces_begun: Callable[[], None] | None = None,
    ) -> StartedCloudRead:
        """The start part of a read (``backend.SplitRead``; ``read.py``)."""
        return start_read(self.client, start, progress, stop=stop, spaces_begun=spaces_begun,
                          book=self._accounts, running=self._run)

    def _run(self, started: StartedCloudRead) -> None:
        self._running = started

    def read_roles(self) -> Mapping[str, LiveRole]:
        return fetch_roles(self.client)

    def list_spaces(self) -> list[SpaceInfo]:
        """Every current space the caller can see: ``GET /spaces?status=current``, 250 a page (the pages a
        plan with a defaults selector reads anyway)."""
        return fetch_all_spaces(self.client)

    def read_users(self, account_ids: Sequence[str]) -> dict[str, SiteUser]:
        return fetch_users(self.client, account_ids)

    def current_account(self) -> str | None:
        return fetch_current_account(self.client)

    def read_group_members(
        self, groups: Mapping[str, str], progress: Progress | None = None
    ) -> dict[str, GroupMembers]:
        return fetch_group_members(self.client, groups, progress=progress)

    def admin_client(self) -> ConfluenceClient:
        """The org's Admin API client (opened on first use, then kept for the run)."""
        if self._admin is None:
            self._admin = self._open_admin()
        return self._admin

    def data_security(self, org_id: str, known_ids: Mapping[str, str]) -> CloudDataSecurity:
        self._lookup.ids.update(known_ids)
        if org_id not in self._orgs:
            self._orgs[org_id] = CloudDataSecurity(AdminApi(self.admin_client(), org_id), self._lookup)
        return self._orgs[org_id]

    def map_spaces(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return self.client.map_concurrently(fn, items)

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
        self.client.close()


class CloudDataSecurity:
    """The org's data security policies through the Admin Control API (``backend.DataSecurity``)."""

    def __init__(self, api: AdminApi, lookup: SiteLookup) -> None:
        self.api = api
        self.lookup = lookup

    def read(self) -> OrgPolicies:
        return read_policies(self.api, self.lookup)

    def writer(self, progress: Progress | None = None) -> RuleWriter:
        return RuleWriter(self.api, self.lookup, progress=progress or (lambda _message: None))
