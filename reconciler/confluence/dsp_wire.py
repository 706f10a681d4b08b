"""THE wire format of an org data security policy with an app access rule. Correct it here, only here.

Sources (``confluence-api.md`` §6, which cites them):

- §6.1: the Admin Control API, base ``https://api.atlassian.com/admin/control/v2/orgs/{orgId}``,
  ``GET/POST /policies`` (``?cursor&type``), ``GET/PUT/DELETE /policies/{policyId}``; JSON:API style:
  a policy is a resource ``{"id", "type": "policy", "attributes": {...}}``; a list page is
  ``{"data": [...], "meta": {"next": cursor}, "links": {"next": url}}``; errors are
  ``{"errors": [{"id", "status", "code", "title", "detail"}]}`` with codes ``ADMIN-400-1..4``,
  ``ADMIN-404-1..5`` (``ADMIN-404-5`` = policy not found), ``ADMIN-429-1``. Verified only through a
  generated client of the official spec (a secondary source).
- §6.1 (the older Organizations API): the attributes ``type``, ``name``, ``status: "enabled"``, ``rule``,
  and ``resources: [{"id": "ari:cloud:...", "applicationStatus": "applied"}]``.
- §6.2: a data security policy has three parts, ``policyCoverageLevel`` (``WORKSPACE`` | ``CONTAINER`` |
  ``CLASSIFICATION``; fixed once set), ``rule`` and ``resources`` [DAC-dsp].
- §6.3: the app access rule's modes: block all apps, a blocklist or an allowlist of at most 20 apps.

**UNVERIFIED** (confluence-api.md "Open questions": Atlassian does not publish them; check them against
``GET /admin/control/v2/orgs/{orgId}/policies`` of a real org, then change the constants below):

- ``POLICY_TYPE`` (the ``attributes.type`` of a data security policy): ``"data-security"`` is a guess.
- the rule's JSON: ``{"appAccess": {"mode": "BLOCK_ALL" | "BLOCKLIST" | "ALLOWLIST", "apps": [...]}}``
  (field names, mode values and how apps are identified: here by app key, as the policy files name them).
- the resource id of a space: ``ari:cloud:confluence:<cloudId>:space/<spaceId>`` (the ARI pattern of other
  Confluence resources; §6.1 only shows ``ari:cloud:…``).

Everything above this module (the adapter, the sandbox, the plan) works on ``AppPolicy`` and calls
``to_wire``/``from_wire``; the sandbox builds its responses from the same constants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.model import AppBlockMode, AppPolicy

RESOURCE_TYPE = "policy"  # JSON:API resource type (§6.1)
POLICY_TYPE = "data-security"  # UNVERIFIED
STATUS_ENABLED = "enabled"  # §6.1
COVERAGE_CONTAINER = "CONTAINER"  # §6.2: spaces / projects
COVERAGE_LEVELS: tuple[str, ...] = ("WORKSPACE", "CONTAINER", "CLASSIFICATION")  # §6.2
RULE_KEY = "appAccess"  # UNVERIFIED
MODE_KEY = "mode"  # UNVERIFIED
APPS_KEY = "apps"  # UNVERIFIED
MAX_SPACES_PER_INSTANCE = 15  # §6.2: UI limit, per product instance and policy
MAX_APPS = 20  # §6.3: at most 20 apps in an allowlist or blocklist

# AppBlockMode <-> the rule's mode on the wire (UNVERIFIED values)
_MODE_TO_WIRE: Mapping[AppBlockMode, str] = {
    AppBlockMode.ALL: "BLOCK_ALL",
    AppBlockMode.ONLY: "BLOCKLIST",
    AppBlockMode.ALL_EXCEPT: "ALLOWLIST",
}
_MODE_FROM_WIRE: Mapping[str, AppBlockMode] = {v: k for k, v in _MODE_TO_WIRE.items()}

_ARI_PREFIX = "ari:cloud:confluence:"
_ARI_SPACE = ":space/"


class WireFormatError(ValueError):
    """A policy resource that does not have the shape this module expects."""


def space_ari(cloud_id: str, space_id: str) -> str:
    """``ari:cloud:confluence:<cloudId>:space/<spaceId>`` (UNVERIFIED pattern)."""
    return f"{_ARI_PREFIX}{cloud_id}{_ARI_SPACE}{space_id}"


def parse_space_ari(ari: str) -> tuple[str, str] | None:
    """``(cloudId, spaceId)`` of a Confluence space ARI, or None for any other resource id."""
    if not ari.startswith(_ARI_PREFIX) or _ARI_SPACE not in ari:
        return None
    cloud_id, _, space_id = ari[len(_ARI_PREFIX):].partition(_ARI_SPACE)
    if not cloud_id or not space_id or "/" in space_id:
        return None
    return cloud_id, space_id


def rule_to_wire(mode: AppBlockMode, apps: Iterable[str]) -> dict[str, Any]:
    """The ``rule`` attribute of an app access policy."""
    body: dict[str, Any] = {MODE_KEY: _MODE_TO_WIRE[mode]}
    if mode is not AppBlockMode.ALL:
        body[APPS_KEY] = sorted(apps)
    return {RULE_KEY: body}


def to_wire(policy: AppPolicy, cloud_id: str, space_ids: Mapping[str, str]) -> dict[str, Any]:
    """The JSON:API document to POST (create) or PUT (update) for ``policy``.

    ``space_ids`` maps space key -> space id (v2, string); every key of ``policy.spaces`` must be in it
    (``KeyError`` otherwise: the caller checks first and names the space). A key that is already an ARI
    (a resource the tool could not map back to a space of this site) is sent unchanged.
    """
    resources = [
        {"id": key if key.startswith("ari:") else space_ari(cloud_id, space_ids[key])}
        for key in policy.spaces
    ]
    resource: dict[str, Any] = {
        "type": RESOURCE_TYPE,
        "attributes": {
            "name": policy.name,
            "type": POLICY_TYPE,
            "status": STATUS_ENABLED,
            "policyCoverageLevel": policy.coverage,
            "rule": rule_to_wire(policy.mode, policy.apps),
            "resources": resources,
        },
    }
    if policy.id is not None:
        resource["id"] = policy.id
    return {"data": resource}


def is_app_access_policy(resource: Mapping[str, Any]) -> bool:
    """Whether a policy resource (the ``data`` item) has an app access rule."""
    attributes = resource.get("attributes")
    if not isinstance(attributes, Mapping):
        return False
    rule = attributes.get("rule")
    return isinstance(rule, Mapping) and isinstance(rule.get(RULE_KEY), Mapping)


def resource_ids(resource: Mapping[str, Any]) -> list[str]:
    """The resource ids (ARIs) a policy covers; entries may be ``{"id": ...}`` objects or plain strings."""
    attributes = resource.get("attributes") or {}
    ids: list[str] = []
    for entry in attributes.get("resources") or ():
        if isinstance(entry, str):
            ids.append(entry)
        elif isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            ids.append(entry["id"])
        else:
            raise WireFormatError(f"policy {resource.get('id')!r}: a resource without an id: {entry!r}")
    return ids


def from_wire(
    resource: Mapping[str, Any], space_keys_by_id: Mapping[str, str], *, cloud_id: str | None = None
) -> AppPolicy:
    """An ``AppPolicy`` from one policy resource (a ``data`` item of a list or a get).

    Space ARIs of this site (``cloud_id``, when given) whose id is in ``space_keys_by_id`` become space
    keys; any other resource id is kept as it is (it shows in plans as an ARI and is dropped by the next
    update of a managed policy). Raises ``WireFormatError`` for a resource that is not an app access policy.
    """
    if not is_app_access_policy(resource):
        raise WireFormatError(f"policy {resource.get('id')!r} has no app access rule")
    attributes = resource["attributes"]
    rule = attributes["rule"][RULE_KEY]
    wire_mode = rule.get(MODE_KEY)
    if wire_mode not in _MODE_FROM_WIRE:
        raise WireFormatError(f"policy {resource.get('id')!r}: unknown app access mode {wire_mode!r}")
    mode = _MODE_FROM_WIRE[wire_mode]
    apps = tuple(sorted(str(a) for a in rule.get(APPS_KEY) or ())) if mode is not AppBlockMode.ALL else ()
    spaces = sorted({_space_key(ari, space_keys_by_id, cloud_id) for ari in resource_ids(resource)})
    coverage = attributes.get("policyCoverageLevel") or ""
    return AppPolicy(
        name=str(attributes.get("name") or ""),
        mode=mode,
        apps=apps,
        spaces=tuple(spaces),
        coverage=str(coverage),
        id=str(resource["id"]) if resource.get("id") is not None else None,
    )


def _space_key(ari: str, space_keys_by_id: Mapping[str, str], cloud_id: str | None) -> str:
    parsed = parse_space_ari(ari)
    if parsed is None:
        return ari
    ari_cloud, space_id = parsed
    if cloud_id is not None and ari_cloud != cloud_id:
        return ari
    return space_keys_by_id.get(space_id, ari)


def covered_space_ids(resource: Mapping[str, Any], cloud_id: str | None = None) -> list[str]:
    """The ids of the Confluence spaces (of ``cloud_id``, when given) a policy resource covers."""
    ids = []
    for ari in resource_ids(resource):
        parsed = parse_space_ari(ari)
        if parsed and (cloud_id is None or parsed[0] == cloud_id):
            ids.append(parsed[1])
    return ids
