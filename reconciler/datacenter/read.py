"""Read a Data Center site: who the tool runs as, its version, its spaces, each space's permissions.

REST on 9.1+ (``GET …/permissions`` and ``GET …/permissions/anonymous``: 2 calls per space, no paging),
the JSON-RPC ``getSpacePermissionSets`` (1 call per space) only when the caller allows it and the REST
routes are missing. User keys are turned into usernames once per run (``GET /rest/api/user?key=``, cached
both ways), so policies name people by username. Principals: ``user:<username>``, ``group:<name>``,
``class:anonymous-users``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.confluence.client import ConfluenceClient
from reconciler.datacenter import wire
from reconciler.datacenter.checks import MISSING_REMEDY, RouteMissingError
from reconciler.errors import ApiError, AuthError, NotFoundError
from reconciler.live_state import SpaceInfo
from reconciler.model import Principal, PrincipalKind

ANONYMOUS = Principal(PrincipalKind.CLASS, "anonymous-users")
Access = dict[Principal, frozenset[str]]


class AnonymousSessionError(AuthError):
    """The server ran the request as anonymous: the credentials were not accepted (CS-98199)."""

    def _message(self) -> str:
        return ("refusing to run as anonymous: Confluence Data Center accepted the credentials without a "
                "user (a wrong or expired CONFLUENCE_PAT is not refused, CONFSERVER-98199); check "
                "CONFLUENCE_PAT (or CONFLUENCE_USERNAME and CONFLUENCE_PASSWORD)")


@dataclass(frozen=True, slots=True)
class DcSite:
    """What connecting found: the actor's username and key, the version, and which API reads permissions."""

    username: str
    user_key: str
    version: str
    rest: bool  # True: REST space permissions; False: JSON-RPC


class DcReader:
    """Reads through one client; thread-safe (spaces are read concurrently)."""

    def __init__(
        self,
        client: ConfluenceClient,
        *,
        allow_jsonrpc: bool = False,
        page_limit: int = wire.SPACE_PAGE_LIMIT,
    ) -> None:
        self.client = client
        self.page_limit = page_limit
        self.allow_jsonrpc = allow_jsonrpc
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], str | None] = {}  # ("name", userKey) / ("key", username)
        self._rest = True
        self._rpc_id = 0
        self._inflight: dict[tuple[str, str], threading.Event] = {}
        self.site: DcSite | None = None

    # ------------------------------------------------------------------------------------ connect
    def connect(self) -> DcSite:
        """``/rest/api/user/current`` (refuse anonymous), then ``/rest/api/server-information``."""
        try:
            me = self.client.get_json(wire.CURRENT_USER)
        except NotFoundError as err:
            raise NotFoundError(err.method, err.path, err.status, f"{err.detail}; the site does not answer "
                                "like Confluence Data Center: check the URL (with its context path, e.g. "
                                "/confluence) and site.platform") from None
        if wire.is_anonymous(me):
            raise AnonymousSessionError("GET", wire.CURRENT_USER, 200)
        info = self.client.get_json(wire.SERVER_INFO)
        version = str(info.get("version", "")) if isinstance(info, dict) else ""
        rest = wire.version_tuple(version) >= wire.REST_SINCE
        if not rest and not self.allow_jsonrpc:
            shown = version or "(unknown version)"
            detail = f"Confluence Data Center {shown}: {MISSING_REMEDY}"
            raise RouteMissingError("GET", wire.SERVER_INFO, 200, detail)
        self._rest = rest
        username, key = str(me.get("username", "")), str(me.get("userKey", ""))
        self._remember(key, username)
        self.site = DcSite(username, key, version, rest)
        return self.site

    @property
    def uses_rest(self) -> bool:
        return self._rest

    # ------------------------------------------------------------------------------------ spaces
    def spaces(self) -> list[SpaceInfo]:
        """Every space the actor can see, by offset. Stops on a short page or no ``next`` whatever the
        server claims, and on a page that brings nothing new (CS-95312 returns records past the end)."""
        found: dict[str, SpaceInfo] = {}
        start = 0
        while True:
            page = self.client.get_json(wire.SPACES, {"start": start, "limit": self.page_limit})
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise ApiError("GET", wire.SPACES, 200, "the response has no 'results' list")
            fresh = 0
            for item in results:
                key = str(item.get("key", ""))
                if key and key not in found:
                    fresh += 1
                    found[key] = SpaceInfo(key, str(item.get("id", "")), str(item.get("name", "")),
                                           str(item.get("type", "global")),
                                           str(item.get("status", "current")))
            limit = int(page.get("limit") or self.page_limit)
            links = page.get("_links") if isinstance(page.get("_links"), dict) else {}
            if fresh == 0 or len(results) < limit or not links.get("next"):
                return sorted(found.values())
            start += len(results)

    # ------------------------------------------------------------------------------------ permissions
    def space_access(self, space: str) -> Access:
        """Who holds what in ``space``: principal -> DC permission ids."""
        if self._rest:
            try:
                return self._rest_access(space)
            except RouteMissingError:
                if not self.allow_jsonrpc:
                    raise
                self._rest = False  # ONYX: fall back on a missing route even when the version says 9.1+
        return self._rpc_access(space)

    def _rest_access(self, space: str) -> Access:
        rows = wire.parse_permission_rows(self.client.get_json(wire.permissions_path(space), space=space))
        try:
            anonymous = wire.parse_anonymous(self.client.get_json(wire.anonymous_path(space), space=space))
        except RouteMissingError:
            raise
        except NotFoundError:
            anonymous = set()  # a JSON 404: no anonymous access (Inference, A.4)
        held: dict[Principal, set[str]] = {}
        for kind, ident, op in rows:
            held.setdefault(self._principal(kind, ident, by_key=True), set()).add(op)
        if anonymous:
            held.setdefault(ANONYMOUS, set()).update(anonymous)
        return {p: frozenset(ops) for p, ops in held.items()}

    def _rpc_access(self, space: str) -> Access:
        result = self.rpc("getSpacePermissionSets", [space], space=space)
        held: dict[Principal, set[str]] = {}
        for kind, ident, op in wire.parse_rpc_sets(result):
            held.setdefault(self._principal(kind, ident, by_key=False), set()).add(op)
        return {p: frozenset(ops) for p, ops in held.items()}

    def rpc(self, method: str, params: list[Any], *, space: str | None = None) -> Any:
        """One JSON-RPC call; an ``error`` member (HTTP 200) becomes an ``ApiError`` naming the method."""
        with self._lock:
            self._rpc_id += 1
            ident = self._rpc_id
        answer = self.client.post_json(wire.RPC, wire.rpc_call(method, params, ident), space=space,
                                       headers=wire.RPC_HEADERS, read=method in wire.RPC_READS)
        if not isinstance(answer, dict):
            raise ApiError("POST", wire.RPC, 200, f"{method}: the answer is not a JSON-RPC response",
                           space=space)
        error = answer.get("error")
        if error is not None:
            message = error.get("message") if isinstance(error, dict) else error
            text = " ".join(str(message).split())[:300]
            raise ApiError("POST", wire.RPC, 200, f"{method}: {text}", space=space)
        return answer.get("result")

    # ------------------------------------------------------------------------------------ identities
    def _principal(self, kind: str, ident: str, *, by_key: bool) -> Principal:
        if kind == "group":
            return Principal(PrincipalKind.GROUP, ident)
        if kind == "anonymous":
            return ANONYMOUS
        if not by_key:
            return Principal(PrincipalKind.USER, ident)
        name = self.username_for(ident)
        if name is None:
            return Principal(PrincipalKind.USER, f"key:{ident}", unknown=True)
        return Principal(PrincipalKind.USER, name)

    def username_for(self, user_key: str) -> str | None:
        """The username of a user key: one lookup per key per run, however many threads ask."""
        return self._memo("name", user_key, lambda: self._fetch("key", user_key, "username"))

    def user_key_for(self, username: str) -> str | None:
        """The user key of a username (writes need it): one lookup per username per run."""
        return self._memo("key", username, lambda: self._fetch("username", username, "userKey"))

    def _fetch(self, by: str, ident: str, field: str) -> str | None:
        try:
            user = self.client.get_json(wire.USER, {by: ident})
        except NotFoundError:
            return None
        value = str(user.get(field, "")) if isinstance(user, dict) else ""
        if value:  # the other direction comes for free
            other = ("name", value) if field == "userKey" else ("key", value)
            with self._lock:
                self._values.setdefault(other, ident)
        return value or None

    def _memo(self, kind: str, ident: str, fetch: Callable[[], str | None]) -> str | None:
        key = (kind, ident)
        with self._lock:
            if key in self._values:
                return self._values[key]
            event = self._inflight.get(key)
            owner = event is None
            if event is None:
                event = self._inflight[key] = threading.Event()
        if not owner:
            event.wait()
            with self._lock:
                return self._values.get(key)
        try:
            value = fetch()
            with self._lock:
                self._values[key] = value
            return value
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            event.set()

    def _remember(self, key: str, username: str) -> None:
        with self._lock:
            if key and username:
                self._values[("name", key)], self._values[("key", username)] = username, key

    def read_all(self, spaces: list[str]) -> Mapping[str, Access]:
        """Every space's access, concurrently; the first failure ends the read (no partial result)."""
        results = self.client.map_concurrently(self.space_access, spaces)
        return dict(zip(spaces, results, strict=True))
