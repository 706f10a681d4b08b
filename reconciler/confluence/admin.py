"""The Admin API adapter: org data security policies with an app access rule (docs/app-access.md).

Base: ``https://api.atlassian.com/admin/control/v2/orgs/{orgId}`` (confluence-api.md §6.1: the Admin
Control API is where data security policies live; the older ``/admin/v1/orgs`` Organizations API lists
only ``ip-allowlist`` and ``data-residency`` policies). ``ATLASSIAN_ADMIN_URL`` overrides the host.
Auth: ``Authorization: Bearer $ATLASSIAN_ADMIN_API_KEY`` (an org API key with the scopes
``read:policies:admin``, ``write:policies:admin``, ``delete:policies:admin``); a missing key is a
``UsageError`` naming the variable. For ``sandbox:<name>`` sites the sandbox's own org key is used when the
variable is not set.

HTTP, retries and the translation of the JSON:API error envelope into ``ApiError`` are the Confluence
client's (``ConfluenceClient``, opened by ``session.open_client(admin=True)``); this module adds the
JSON:API paging (``links.next`` / ``meta.next`` cursor) and the policy semantics. The wire format is
``dsp_wire``'s alone.

The cloud id (for the space ARIs) comes from ``ATLASSIAN_CLOUD_ID``, else from a gateway site URL
(``https://api.atlassian.com/ex/confluence/<cloudId>``), else from ``GET <site>/_edge/tenant_info``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from reconciler.confluence import dsp_wire
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.session import effective_site_url, open_client, parse_site_url
from reconciler.errors import (
    ApiError,
    NotFoundError,
    PlanFileError,
    PolicyError,
    Problem,
    StalePlanError,
    UsageError,
)
from reconciler.model import AppPolicy, DesiredState, LiveState
from reconciler.plan.app_access import compile_rules, managed_rule_names, part_of
from reconciler.plan.changes import AppPolicyChange

ADMIN_BASE_PATH = "/admin/control/v2/orgs/{org_id}"
KEY_VARIABLE = "ATLASSIAN_ADMIN_API_KEY"
CLOUD_ID_VARIABLE = "ATLASSIAN_CLOUD_ID"
TENANT_INFO_PATH = "/_edge/tenant_info"
SPACES_PATH = "/wiki/api/v2/spaces"
BATCH = 250  # v2 /spaces accepts at most 250 keys or ids, and pages of at most 250
_MAX_PAGES = 1000


class AdminApi:
    """The policies of one org, through a client opened on the Admin API host."""

    def __init__(self, client: ConfluenceClient, org_id: str) -> None:
        self.client = client
        self.org_id = org_id
        self.policies_path = ADMIN_BASE_PATH.format(org_id=org_id) + "/policies"

    def list_policies(self) -> Iterator[dict[str, Any]]:
        """Every policy of the org, following the JSON:API cursor."""
        params: dict[str, str] = {}
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            page = self.client.get_json(self.policies_path, params or None)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise ApiError("GET", self.policies_path, 200, "the response has no 'data' list")
            yield from data
            cursor = _next_cursor(page)
            if not cursor:
                return
            if cursor in seen:
                raise ApiError("GET", self.policies_path, 200, "pagination did not advance")
            seen.add(cursor)
            params = {"cursor": cursor}
        raise ApiError("GET", self.policies_path, 200, f"more than {_MAX_PAGES} pages of policies")

    def get(self, policy_id: str) -> dict[str, Any]:
        path = f"{self.policies_path}/{policy_id}"
        return _data(self.client.get_json(path), "GET", path)

    def create(self, document: Mapping[str, Any]) -> dict[str, Any]:
        return _data(self.client.post_json(self.policies_path, document), "POST", self.policies_path)

    def update(self, policy_id: str, document: Mapping[str, Any]) -> dict[str, Any]:
        path = f"{self.policies_path}/{policy_id}"
        return _data(self.client.put_json(path, document), "PUT", path)

    def delete(self, policy_id: str) -> None:
        self.client.delete(f"{self.policies_path}/{policy_id}")


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


# ---------------------------------------------------------------------------------------- opening


def open_admin_api(
    site_url: str,
    org_id: str,
    *,
    read_only: bool,
    env: Mapping[str, str] = os.environ,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> AdminApi:
    """The org's Admin API (``open_client(admin=True)``: a ``sandbox:<name>`` site uses its sandbox's org key
    when ``ATLASSIAN_ADMIN_API_KEY`` is not set)."""
    client = open_client(site_url, read_only=read_only, env=env, admin=True, transport=transport,
                         state_dir=state_dir)
    return AdminApi(client, org_id)


class SiteLookup:
    """The Confluence-side facts the Admin API needs: the cloud id and space key <-> id (read-only, lazy).

    ``known`` (space key -> id, e.g. from the live state) saves requests; other spaces are looked up with
    ``GET /wiki/api/v2/spaces?keys=`` or ``?ids=`` in batches of 250.
    """

    def __init__(
        self,
        site_url: str,
        env: Mapping[str, str],
        known: Mapping[str, str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self._site_url = site_url
        self._env = env
        self._transport = transport
        self._state_dir = state_dir
        self._client: ConfluenceClient | None = None
        self._cloud_id: str | None = None
        self.ids: dict[str, str] = dict(known or {})

    def _site(self) -> ConfluenceClient:
        if self._client is None:
            self._client = open_client(self._site_url, read_only=True, env=self._env,
                                       transport=self._transport, state_dir=self._state_dir)
        return self._client

    def cloud_id(self) -> str:
        """``ATLASSIAN_CLOUD_ID``, a gateway URL's cloud id, or the site's ``/_edge/tenant_info``."""
        if self._cloud_id is None:
            self._cloud_id = self._resolve_cloud_id()
        return self._cloud_id

    def _resolve_cloud_id(self) -> str:
        given = (self._env.get(CLOUD_ID_VARIABLE) or "").strip()
        if given:
            return given
        site = parse_site_url(effective_site_url(self._site_url, self._env))
        if site.form == "gateway":
            return site.base.rstrip("/").rsplit("/", 1)[-1]
        info = self._site().get_json(TENANT_INFO_PATH)
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

    def _look_up(self, by: str, values: list[str]) -> None:
        for start in range(0, len(values), BATCH):
            params = {by: ",".join(values[start:start + BATCH]), "limit": BATCH}
            for item in self._site().paginate(SPACES_PATH, params):
                key, space_id = item.get("key"), item.get("id")
                if isinstance(key, str) and space_id is not None:
                    self.ids[key] = str(space_id)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _org_id(desired: DesiredState) -> str:
    if desired.app_access is None or not desired.app_access.org_id:
        raise UsageError("app access needs app_access.org_id in the policy (the Admin API organisation id)")
    return desired.app_access.org_id


# ------------------------------------------------------------------------------------------ reading


def fetch_app_policies(
    site_url: str,
    desired: DesiredState,
    live_space_ids: Mapping[str, str],
    env: Mapping[str, str] = os.environ,
    *,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> tuple[AppPolicy, ...]:
    """The org's app access policies that concern this policy (read-only), sorted by name and id.

    Returned: every policy whose name is a rule's (bare or numbered: the tool's own), and every other
    app access policy that covers a space of the policy (reported, never changed). ``live_space_ids``
    maps space key -> id for spaces already read; other covered spaces are looked up by id (a space the
    site does not show stays an ARI).
    """
    api = open_admin_api(site_url, _org_id(desired), read_only=True, env=env, transport=transport,
                         state_dir=state_dir)
    lookup = SiteLookup(site_url, env, live_space_ids, transport=transport, state_dir=state_dir)
    bases = managed_rule_names(desired)
    policy_spaces = set(desired.spaces) | {s for rule in compile_rules(desired) for s in rule.spaces}
    found = []
    try:
        resources = [r for r in api.list_policies() if dsp_wire.is_app_access_policy(r)]
        cloud_id = lookup.cloud_id() if resources else ""
        covered = {i for r in resources for i in dsp_wire.covered_space_ids(r, cloud_id)}
        keys_by_id = lookup.keys_by_id(covered)
        for resource in resources:
            try:
                policy = dsp_wire.from_wire(resource, keys_by_id, cloud_id=cloud_id)
            except dsp_wire.WireFormatError as err:
                raise ApiError("GET", api.policies_path, 200, f"unexpected policy shape: {err}") from None
            if part_of(policy.name, bases) or set(policy.spaces) & policy_spaces:
                found.append(policy)
    finally:
        api.client.close()
        lookup.close()
    return tuple(sorted(found, key=lambda p: (p.name, p.id or "")))


def with_app_policies(
    desired: DesiredState,
    live: LiveState,
    env: Mapping[str, str] = os.environ,
    *,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> LiveState:
    """``live`` with ``app_policies`` read from the org (for plan, apply and drift alike)."""
    ids = {info.key: info.id for info in live.unmanaged}
    ids.update({key: space.info.id for key, space in live.spaces.items()})
    policies = fetch_app_policies(desired.site.url, desired, ids, env, transport=transport,
                                  state_dir=state_dir)
    return replace(live, app_policies=policies)


# ------------------------------------------------------------------------------------------ writing


class AdminWriter:
    """Executes app-policy changes (CREATE/UPDATE/DELETE_APP_POLICY) against the org (apply's port).

    Updates and deletions first read the org's policy: one that no longer says what the plan saw
    (``old_app_policy``) was changed by someone else since the plan was made, and is refused with a
    ``StalePlanError`` instead of being overwritten.
    """

    def __init__(self, api: AdminApi, lookup: SiteLookup) -> None:
        self.api = api
        self.lookup = lookup

    def apply_change(self, change: AppPolicyChange) -> None:
        """Execute one change; a change the plan file holds incompletely is a ``PlanFileError``."""
        if change.existing is None:
            self.create(change.policy)
        elif change.new is None:
            self.delete(change.existing)
        else:
            self.update(change.new, change.existing)

    def create(self, policy: AppPolicy) -> str:
        """Create ``policy``; returns its id. Re-run safe: an equal policy of that name is taken as done."""
        document = self._document(policy, with_id=False)
        for resource in self.api.list_policies():
            if resource.get("attributes", {}).get("name") != policy.name:
                continue
            if self._equal(resource, document):
                return str(resource.get("id", ""))
            raise StalePlanError(f"app access policy '{policy.name}': a different policy of that name "
                                 f"exists on the org (id {resource.get('id')}); run `reconciler plan` again")
        return str(self.api.create(document).get("id", ""))

    def update(self, policy: AppPolicy, old: AppPolicy) -> None:
        """Update ``policy`` (by its live id) from ``old``, what the plan saw; checked by a read first.

        Done already (the org holds ``policy``): no write. Neither ``policy`` nor ``old``: someone changed
        it since the plan was made, refused (``StalePlanError``).
        """
        policy_id = _live_id(policy, "update")
        document = self._document(policy, with_id=True)
        current = self.api.get(policy_id)
        if self._equal(current, document):
            return
        if not self._as_planned(current, old):
            raise StalePlanError(stale_message(old.name))
        self.api.update(policy_id, document)

    def delete(self, policy: AppPolicy) -> None:
        """Delete the live policy if it still says what the plan saw (``policy``); gone counts as deleted."""
        policy_id = _live_id(policy, "delete")
        try:
            current = self.api.get(policy_id)
            if not self._as_planned(current, policy):
                raise StalePlanError(stale_message(policy.name))
            self.api.delete(policy_id)
        except NotFoundError:
            return

    def _as_planned(self, resource: Mapping[str, Any], planned: AppPolicy) -> bool:
        """Whether a live policy resource, read as the plan reads it, is still ``planned``."""
        cloud_id = self.lookup.cloud_id()
        keys_by_id = self.lookup.keys_by_id(dsp_wire.covered_space_ids(resource, cloud_id))
        try:
            live = dsp_wire.from_wire(resource, keys_by_id, cloud_id=cloud_id)
        except dsp_wire.WireFormatError:
            return False  # no longer an app access policy
        return _facts(live) == _facts(planned)

    def _equal(self, resource: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
        """Whether a live policy resource already says what ``document`` would write."""
        try:
            live = dsp_wire.from_wire(resource, {}, cloud_id=None)
            wanted = dsp_wire.from_wire({"id": None, **document["data"]}, {}, cloud_id=None)
        except dsp_wire.WireFormatError:
            return False
        return (live.name, live.mode, live.apps, live.spaces, live.coverage) == (
            wanted.name, wanted.mode, wanted.apps, wanted.spaces, wanted.coverage)

    def _document(self, policy: AppPolicy, *, with_id: bool) -> dict[str, Any]:
        ids = self.lookup.ids_for(policy.spaces)
        missing = [k for k in policy.spaces if not k.startswith("ari:") and k not in ids]
        if missing:
            src = policy.source
            raise PolicyError([Problem(
                src.file if src else "policies", src.line if src else 0, src.column if src else 0,
                f"app access policy '{policy.name}': space {', '.join(missing)} is not on the site",
                path="app_access",
            )])
        document = dsp_wire.to_wire(policy, self.lookup.cloud_id(), ids)
        if not with_id:
            document["data"].pop("id", None)
        return document

    def close(self) -> None:
        self.api.client.close()
        self.lookup.close()


def stale_message(name: str) -> str:
    return f"app policy '{name}' changed since the plan was made; run `reconciler plan` again"


def _malformed(what: str) -> PlanFileError:
    return PlanFileError(f"the plan file is malformed: {what}; run `reconciler plan` again")


def _live_id(policy: AppPolicy, verb: str) -> str:
    if policy.id is None:
        raise _malformed(f"app policy '{policy.name}' has no live policy id to {verb}")
    return policy.id


def _facts(policy: AppPolicy) -> tuple[object, ...]:
    """What a policy says, as plans compare policies (ids and sources aside, order-free)."""
    return (policy.name, policy.mode, frozenset(policy.apps), frozenset(policy.spaces), policy.coverage)


def open_admin_writer(
    desired: DesiredState,
    live_space_ids: Mapping[str, str] | None = None,
    env: Mapping[str, str] = os.environ,
    *,
    site_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
    state_dir: Path | None = None,
) -> AdminWriter:
    """An ``AdminWriter`` for the policy's org and site (``site.url``; close it when done).

    ``live_space_ids`` (space key -> id) saves look-ups; spaces not in it are looked up on the site.
    """
    url = site_url or desired.site.url
    api = open_admin_api(url, _org_id(desired), read_only=False, env=env, transport=transport,
                         state_dir=state_dir)
    return AdminWriter(api, SiteLookup(url, env, live_space_ids, transport=transport, state_dir=state_dir))
