"""The Admin Control API adapter: the org's data security policies, read whole (docs/data-security.md).

Base ``https://api.atlassian.com`` (``ATLASSIAN_ADMIN_URL`` overrides the host; a ``sandbox:<name>`` or
loopback site serves it on its own origin). Auth: ``Authorization: Bearer $ATLASSIAN_ADMIN_API_KEY`` (an
org API key; scopes ``read:policies:admin``, ``write:policies:admin``, ``delete:policies:admin``).

HTTP, retries and the translation of error bodies into ``ApiError`` are the Confluence client's
(``endpoint.open_client(admin=True)``, opened once per run by the composition root); every path and field
is ``app_policy_wire``'s. Reading is all-or-nothing: a failed
list or resources read raises (never "no policies"). The lifecycle writer is ``confluence/admin_apply.py``.

The cloud id (for the space ARIs) comes from ``endpoint.cloud_id_hint`` (``ATLASSIAN_CLOUD_ID``, or a
gateway site URL ``https://api.atlassian.com/ex/confluence/<cloudId>``), else from
``GET <site>/_edge/tenant_info`` through the site's own client.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconciler.confluence import app_policy_wire as wire
from reconciler.confluence.client import ConfluenceClient
from reconciler.errors import ApiError
from reconciler.model import ORG, DataSecurityPolicy, OrgPolicies, UnreadPolicy

CLOUD_ID_VARIABLE = "ATLASSIAN_CLOUD_ID"
TENANT_INFO_PATH = "/_edge/tenant_info"
SPACES_PATH = "/wiki/api/v2/spaces"
BATCH = 250  # v2 /spaces accepts at most 250 keys or ids, and pages of at most 250
_MAX_PAGES = 1000


class AdminApi:
    """The data security policies of one org, through a client opened on the Admin API host."""

    def __init__(self, client: ConfluenceClient, org_id: str) -> None:
        self.client = client
        self.org_id = org_id
        self.policies_path = wire.POLICIES_PATH.format(org=org_id)

    def list_policies(self) -> Iterator[dict[str, Any]]:
        """Every data security policy of the org (``?type=data-security``), following the cursor."""
        yield from self._pages(self.policies_path, dict(wire.LIST_PARAMS))

    def _pages(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            page = self.client.get_json(path, params or None)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise ApiError("GET", path, 200, "the response has no 'data' list")
            yield from data
            cursor = _next_cursor(page)
            if not cursor:
                return
            if cursor in seen:
                raise ApiError("GET", path, 200, "pagination did not advance")
            seen.add(cursor)
            params = {**params, "cursor": cursor}
        raise ApiError("GET", path, 200, f"more than {_MAX_PAGES} pages")

    def get(self, policy_id: str) -> dict[str, Any]:
        path = wire.POLICY_PATH.format(org=self.org_id, id=policy_id)
        return _data(self.client.get_json(path), "GET", path)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return _data(self.client.post_json(self.policies_path, body), "POST", self.policies_path)

    def update(self, policy_id: str, body: Mapping[str, Any]) -> None:
        self.client.put_json(wire.POLICY_PATH.format(org=self.org_id, id=policy_id), body)

    def delete(self, policy_id: str) -> None:
        """v1 DELETE (the only one published); the policy stays readable as ``deleted``."""
        self.client.delete(wire.DELETE_PATH.format(org=self.org_id, id=policy_id))

    def resources(self, policy_id: str) -> list[str]:
        path = wire.RESOURCES_PATH.format(org=self.org_id, id=policy_id)
        try:
            return wire.resource_ids({"data": list(self._pages(path, {}))})
        except wire.WireFormatError as err:
            raise ApiError("GET", path, 200, str(err)) from None

    def add_resource(self, policy_id: str, ari: str) -> None:
        self.client.post_json(
            wire.RESOURCES_PATH.format(org=self.org_id, id=policy_id), wire.resource_body(ari)
        )

    def remove_resource(self, policy_id: str, ari: str) -> None:
        self.client.delete(wire.resource_path(self.org_id, policy_id, ari))

    def publish(self, body: Mapping[str, Any]) -> None:
        self.client.post_json(wire.PUBLISH_PATH.format(org=self.org_id), body)

    def close(self) -> None:
        self.client.close()


def _next_cursor(page: Mapping[str, Any]) -> str | None:
    links = page.get("links")
    if isinstance(links, Mapping) and isinstance(links.get("next"), str) and links["next"]:
        query = parse_qs(urlsplit(links["next"]).query)
        if query.get("cursor"):
            return query["cursor"][0]
    meta = page.get("meta")
    if isinstance(meta, Mapping) and isinstance(meta.get("next"), str) and meta["next"]:
        return str(meta["next"])
    return None


def _data(body: Any, method: str, path: str) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(method, path, None, "the response has no 'data' object")
    return data


class SiteLookup:
    """The Confluence-side facts the Admin API needs: the cloud id and space key <-> id (read-only, lazy).

    ``known`` (space key -> id, e.g. from the live state) saves requests; other spaces are looked up with
    ``GET /wiki/api/v2/spaces?keys=`` or ``?ids=`` in batches of 250, through the site's own client.
    """

    def __init__(self, site: ConfluenceClient, cloud_id: str | None = None,
                 known: Mapping[str, str] | None = None) -> None:
        self._client = site
        self._cloud_id = cloud_id or None
        self.ids: dict[str, str] = dict(known or {})

    def cloud_id(self) -> str:
        """``ATLASSIAN_CLOUD_ID``, a gateway URL's cloud id, or the site's ``/_edge/tenant_info``."""
        if self._cloud_id is None:
            self._cloud_id = self._resolve_cloud_id()
        return self._cloud_id

    def _resolve_cloud_id(self) -> str:
        info = self._client.get_json(TENANT_INFO_PATH)
        cloud_id = info.get("cloudId") if isinstance(info, dict) else None
        if not isinstance(cloud_id, str) or not cloud_id:
            raise ApiError("GET", TENANT_INFO_PATH, 200, f"no cloudId in the answer; set {CLOUD_ID_VARIABLE}")
        return cloud_id

    def ids_for(self, keys: Iterable[str]) -> dict[str, str]:
        """Space key -> id for those of ``keys`` the site shows."""
        keys = list(keys)
        wanted = sorted({k for k in keys if not k.startswith("ari:")} - set(self.ids))
        self._look_up("keys", wanted)
        return {k: self.ids[k] for k in keys if k in self.ids}

    def keys_by_id(self, space_ids: Iterable[str]) -> dict[str, str]:
        """Space id -> key, looking up the ids not known yet."""
        space_ids = set(space_ids)
        self._look_up("ids", sorted(space_ids - set(self.ids.values())))
        return {space_id: key for key, space_id in self.ids.items()}

    def space_keys(self, aris: Iterable[str]) -> tuple[str, ...]:
        """Resource ARIs as space keys (sorted); an ARI of another site or an unknown space stays an ARI."""
        aris = list(aris)
        cloud_id = self.cloud_id() if aris else ""
        parsed = {ari: wire.parse_space_ari(ari) for ari in aris}
        keys = self.keys_by_id(p[1] for p in parsed.values() if p and p[0] == cloud_id)
        return tuple(
            sorted(keys.get(p[1], ari) if p and p[0] == cloud_id else ari for ari, p in parsed.items())
        )

    def _look_up(self, by: str, values: list[str]) -> None:
        for start in range(0, len(values), BATCH):
            params = {by: ",".join(values[start : start + BATCH]), "limit": BATCH}
            for item in self._client.paginate(SPACES_PATH, params):
                key, space_id = item.get("key"), item.get("id")
                if isinstance(key, str) and space_id is not None:
                    self.ids[key] = str(space_id)

# ------------------------------------------------------------------------------------------ reading


def read_policies(api: AdminApi, lookup: SiteLookup) -> OrgPolicies:
    """Every data security policy of the org that is not deleted, with the spaces it covers.

    A policy the wire module does not understand is kept as an ``UnreadPolicy`` (the plan leaves its
    rules out); a failed request raises.
    """
    policies: list[DataSecurityPolicy] = []
    unread: list[UnreadPolicy] = []
    for item in api.list_policies():
        parsed = wire.read_policy(item)
        if isinstance(parsed, UnreadPolicy):
            if str((item.get("attributes") or {}).get("status")) != wire.STATUS_DELETED:
                unread.append(parsed)
            continue
        if parsed.status == wire.STATUS_DELETED or parsed.id is None:
            continue
        if parsed.coverage != ORG:
            parsed = replace(parsed, spaces=lookup.space_keys(api.resources(parsed.id)))
        policies.append(parsed)
    return OrgPolicies(
        tuple(sorted(policies, key=lambda p: (p.key, p.id or ""))), tuple(sorted(unread, key=lambda u: u.id))
    )


def org_key_paths(api: AdminApi) -> dict[str, list[str]]:
    """The key paths of the org's data security policies against ``app_policy_wire``'s guesses
    (``reconciler doctor`` shows them, so a user can confirm or correct the wire module in one place)."""
    return wire.key_path_report(api.list_policies())
