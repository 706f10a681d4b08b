"""The sandbox's Admin Control API: org data security policies with an app access rule.

Routes (``confluence-api.md`` §6.1), under ``/admin/control/v2/orgs/{orgId}``:

- ``GET /policies`` (``?cursor``, ``?type``, and ``?limit`` 1..100, default 20: a sandbox addition):
  ``{"data": [...], "meta": {"next": cursor|null, "page_size": n}, "links": {"self", "next"?}}``
- ``POST /policies`` -> 201 ``{"data": policy}``; ``GET``/``PUT`` ``/policies/{id}`` -> 200 ``{"data": ...}``;
  ``DELETE /policies/{id}`` -> 204.

Every request needs ``Authorization: Bearer <org API key>`` (the site state's ``admin_api_key``); errors use
the JSON:API envelope ``{"errors": [{"id", "status", "code", "title", "detail"}]}``. Codes (the numbering
after ``ADMIN-400-`` and ``ADMIN-404-`` is this sandbox's choice; only ``ADMIN-404-5`` is documented):
``ADMIN-400-1`` malformed body or parameter, ``ADMIN-400-2`` more than 15 spaces of one product instance,
``ADMIN-400-3`` more than 20 apps in a list, ``ADMIN-400-4`` a coverage level changed once set or a
resource that is not a space of the site, ``ADMIN-401-1`` missing or wrong API key, ``ADMIN-404-1``
unknown org or path, ``ADMIN-404-5`` policy not found. The policy's shape is ``dsp_wire``'s.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from reconciler.confluence import dsp_wire
from reconciler.model import AppBlockMode, AppPolicy
from reconciler.sandbox.failures import HttpError
from reconciler.sandbox.http import REASONS, Request, Response, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from reconciler.sandbox.site import Site
    from reconciler.sandbox.state import SiteState

BASE = "/admin/control/v2/orgs"
_PATH = re.compile(r"^/admin/control/v2/orgs/(?P<org>[^/]+)/policies(?:/(?P<id>[^/]+))?/?$")
DEFAULT_PAGE = 20
MAX_PAGE = 100
_IDS = uuid.UUID("6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5")  # namespace of the sandbox's policy ids


class AdminHttpError(HttpError):
    """An HttpError with a JSON:API error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message)
        self.code = code


def handle(site: Site, request: Request) -> Response:
    try:
        return _route(site, request)
    except AdminHttpError as failure:
        return error(failure.status, failure.code, failure.message)
    except HttpError as failure:  # e.g. a bad cursor or body from the shared helpers
        return error(failure.status, f"ADMIN-{failure.status}-1", failure.message)


def error(status: int, code: str, detail: str) -> Response:
    title = REASONS.get(status, "Error")
    body = {"errors": [{"id": str(uuid.uuid4()), "status": str(status), "code": code, "title": title,
                        "detail": detail}]}
    return Response.json(status, body)


def _route(site: Site, request: Request) -> Response:
    with site.reading() as state:
        key, org_id = state.admin_api_key, state.org_id
    if not _authorized(request, key):
        raise AdminHttpError(401, "ADMIN-401-1", "The API key is missing or not valid for this organization")
    match = _PATH.match(request.path)
    if match is None:
        raise AdminHttpError(404, "ADMIN-404-1", f"No Admin API at {request.method} {request.path}")
    if match["org"] != org_id:
        raise AdminHttpError(404, "ADMIN-404-1", f"Organization {match['org']} not found")
    policy_id = match["id"]
    if policy_id is None:
        if request.method == "GET":
            return _list(site, request)
        if request.method == "POST":
            return _create(site, request)
    else:
        if request.method == "GET":
            with site.reading() as state:
                return Response.json(200, {"data": _policy(state, policy_id)})
        if request.method == "PUT":
            return _update(site, request, policy_id)
        if request.method == "DELETE":
            return _delete(site, policy_id)
    raise AdminHttpError(405, "ADMIN-405-1", f"{request.method} is not allowed on {request.path}")


def _authorized(request: Request, key: str) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(key) and _equal(token.strip(), key)


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


# ------------------------------------------------------------------------------------------- handlers


def _list(site: Site, request: Request) -> Response:
    limit = _limit(request)
    offset = decode_cursor(request.param("cursor"))
    wanted_type = request.param("type")
    with site.reading() as state:
        items = [p for p in state.org_policies.values()
                 if wanted_type is None or p.get("attributes", {}).get("type") == wanted_type]
    page = items[offset:offset + limit]
    self_link = f"{request.origin}{request.path}"
    meta: dict[str, Any] = {"next": None, "page_size": len(page)}
    links = {"self": self_link}
    if offset + limit < len(items):
        cursor = encode_cursor(offset + limit)
        meta["next"] = cursor
        query = [(k, v) for k, vs in request.query.items() if k != "cursor" for v in vs]
        links["next"] = f"{self_link}?{urlencode([*query, ('cursor', cursor)])}"
    return Response.json(200, {"data": page, "meta": meta, "links": links})


def _limit(request: Request) -> int:
    raw = request.param("limit")
    if raw is None:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise AdminHttpError(400, "ADMIN-400-1", f"'limit' must be an integer between 1 and {MAX_PAGE}")
    return int(raw)


def _create(site: Site, request: Request) -> Response:
    attributes = _attributes(request)
    with site.writing() as state:
        _validate(state, attributes)
        policy_id = _new_id(state)
        resource = _stored(policy_id, attributes)
        state.org_policies[policy_id] = resource
    return Response.json(201, {"data": resource})


def _update(site: Site, request: Request, policy_id: str) -> Response:
    attributes = _attributes(request)
    with site.writing() as state:
        current = _policy(state, policy_id)
        old_level = current["attributes"].get("policyCoverageLevel") or ""
        new_level = attributes.get("policyCoverageLevel") or ""
        if old_level and new_level != old_level:
            raise AdminHttpError(400, "ADMIN-400-4", f"The coverage level of a policy cannot change once set "
                                                   f"(it is {old_level})")
        _validate(state, attributes)
        resource = _stored(policy_id, attributes)
        state.org_policies[policy_id] = resource
    return Response.json(200, {"data": resource})


def _delete(site: Site, policy_id: str) -> Response:
    with site.writing() as state:
        _policy(state, policy_id)
        del state.org_policies[policy_id]
    return Response(204)


def _policy(state: SiteState, policy_id: str) -> dict[str, Any]:
    policy = state.org_policies.get(policy_id)
    if policy is None:
        raise AdminHttpError(404, "ADMIN-404-5", f"Policy {policy_id} not found")
    return policy


def _new_id(state: SiteState) -> str:
    number = len(state.org_policies)
    while True:
        candidate = str(uuid.uuid5(_IDS, f"{state.org_id}:{number}"))
        if candidate not in state.org_policies:
            return candidate
        number += 1


# ----------------------------------------------------------------------------------------- validation


def _attributes(request: Request) -> dict[str, Any]:
    body = request.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != dsp_wire.RESOURCE_TYPE:
        raise AdminHttpError(400, "ADMIN-400-1", "The body must be {\"data\": {\"type\": \"policy\", "
                                               "\"attributes\": {...}}}")
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise AdminHttpError(400, "ADMIN-400-1", "'data.attributes' must be an object")
    name = attributes.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AdminHttpError(400, "ADMIN-400-1", "'name' is required")
    if not isinstance(attributes.get("rule"), dict):
        raise AdminHttpError(400, "ADMIN-400-1", "'rule' must be an object")
    level = attributes.get("policyCoverageLevel") or ""
    if level and level not in dsp_wire.COVERAGE_LEVELS:
        raise AdminHttpError(400, "ADMIN-400-1", f"'policyCoverageLevel' must be one of "
                                               f"{', '.join(dsp_wire.COVERAGE_LEVELS)}")
    return attributes


def _validate(state: SiteState, attributes: Mapping[str, Any]) -> None:
    resource = {"attributes": attributes}
    try:
        ids = dsp_wire.resource_ids(resource)
    except dsp_wire.WireFormatError as err:
        raise AdminHttpError(400, "ADMIN-400-1", str(err)) from None
    if dsp_wire.is_app_access_policy(resource):
        _validate_rule(attributes["rule"][dsp_wire.RULE_KEY])
    per_instance: Counter[str] = Counter()
    for ari in ids:
        parsed = dsp_wire.parse_space_ari(ari)
        if parsed is None or parsed[0] != state.cloud_id or not parsed[1].isdigit() \
                or int(parsed[1]) not in state.spaces:
            raise AdminHttpError(400, "ADMIN-400-4", f"Resource {ari} is not a space of a product instance "
                                                   f"of this organization")
        per_instance[parsed[0]] += 1
    for _, count in per_instance.items():
        if count > dsp_wire.MAX_SPACES_PER_INSTANCE:
            raise AdminHttpError(400, "ADMIN-400-2", f"A policy covers at most "
                                                   f"{dsp_wire.MAX_SPACES_PER_INSTANCE} spaces per product "
                                                   f"instance; got {count}")


def _validate_rule(rule: Mapping[str, Any]) -> None:
    modes = {dsp_wire.rule_to_wire(m, ())[dsp_wire.RULE_KEY][dsp_wire.MODE_KEY] for m in AppBlockMode}
    if rule.get(dsp_wire.MODE_KEY) not in modes:
        raise AdminHttpError(400, "ADMIN-400-1", f"App access mode must be one of {', '.join(sorted(modes))}")
    apps = rule.get(dsp_wire.APPS_KEY) or []
    if not isinstance(apps, list) or not all(isinstance(a, str) for a in apps):
        raise AdminHttpError(400, "ADMIN-400-1", "'apps' must be a list of app keys")
    if len(apps) > dsp_wire.MAX_APPS:
        raise AdminHttpError(
            400, "ADMIN-400-3", f"An app access rule lists at most {dsp_wire.MAX_APPS} apps; got {len(apps)}"
        )


def _stored(policy_id: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The resource as the org keeps it: the given attributes, resources marked applied."""
    stored = dict(attributes)
    stored["resources"] = [{"id": ari, "applicationStatus": "applied"}
                           for ari in dsp_wire.resource_ids({"attributes": attributes})]
    stored.setdefault("status", dsp_wire.STATUS_ENABLED)
    return {"id": policy_id, "type": dsp_wire.RESOURCE_TYPE, "attributes": stored}


# ------------------------------------------------------------------------------------------- seeding


def add_policy(state: SiteState, policy: AppPolicy) -> str:
    """Put an app access policy on the org directly (for seeds and tests); returns its id.

    ``policy.spaces`` are space keys of the site; ``policy.id`` is ignored.
    """
    ids = {space.key: str(space.id) for space in state.spaces.values()}
    document = dsp_wire.to_wire(replace(policy, id=None), state.cloud_id, ids)
    policy_id = _new_id(state)
    state.org_policies[policy_id] = _stored(policy_id, document["data"]["attributes"])
    return policy_id


# ----------------------------------------------------------------------------------------- tenant info

TENANT_INFO = "/_edge/tenant_info"


def tenant_info(site: Site) -> Response:
    """``GET /_edge/tenant_info`` (unauthenticated on Cloud): the site's cloud id (confluence-api.md §1)."""
    with site.reading() as state:
        return Response.json(200, {"cloudId": state.cloud_id})
