"""The sandbox Admin API's rules: body validation, the lifecycle's refusals, the stored policy's keys.

``admin_api.py`` routes requests here; each rule's source is in its docstring there and in docs/sandbox.md
"The Admin API".
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.confluence import app_policy_wire as wire
from reconciler.model import ALL_APPS, MAX_OVERRIDE_APPS, ORG, DsRule
from reconciler.sandbox.failures import HttpError
from reconciler.sandbox.http import Request

if TYPE_CHECKING:
    from reconciler.sandbox.state import SiteState

_IDS = uuid.UUID("6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5")  # namespace of the sandbox's policy ids
ATTRIBUTES = frozenset(
    {"createdAt", "id", "metadata", "name", "ownerId", "queryData", "rule", "status", "type", "updatedAt"}
)  # [schema] ModelsDataSecurityPolicyAttributes
METADATA = frozenset(
    {"createdBy", "description", "hasHadCoverage", "lastUpdatedBy", wire.COVERAGE, "systemTag"}
)  # [schema]
NO_ORG_RULE = "The draft org-wide policy does not contain the rule being overridden"  # [cookbook]
REDUNDANT = "Redundant draft override rule found"  # [cookbook]
RESOURCES = "_resources"  # where the sandbox keeps a policy's resources (never sent as an attribute)


class AdminHttpError(HttpError):
    """An HttpError with an Admin API error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message)
        self.code = code


def bad(code: str, message: str) -> AdminHttpError:
    return AdminHttpError(400, code, message)


def read_attributes(request: Request) -> dict[str, Any]:
    body = request.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != wire.RESOURCE_TYPE:
        raise bad("ADMIN-400-1", 'The body must be {"data": {"type": "policy", "attributes": {...}}}')
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise bad("ADMIN-400-1", "'data.attributes' must be an object")
    unknown = sorted(set(attributes) - ATTRIBUTES)
    if unknown:
        raise bad("ADMIN-400-1", f"Unknown attributes: {', '.join(unknown)}")
    if attributes.get("type") != wire.POLICY_TYPE:
        raise bad("ADMIN-400-1", f"'type' must be {wire.POLICY_TYPE}")
    name = attributes.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("ADMIN-400-1", "'name' is required")
    if attributes.get("status", wire.STATUS_DRAFT) != wire.STATUS_DRAFT:
        raise bad(
            "ADMIN-400-1",
            "Policies are created and updated as drafts; publish them with publishDraftPolicies",
        )
    metadata = attributes.get(wire.METADATA)
    if not isinstance(metadata, dict) or set(metadata) - METADATA:
        raise bad("ADMIN-400-1", "'metadata' must be an object of the published metadata fields")
    level = metadata.get(wire.COVERAGE)
    if level not in wire.COVERAGE_LEVELS:
        raise bad(
            "ADMIN-400-1", f"'metadata.policyCoverageLevel' must be one of {', '.join(wire.COVERAGE_LEVELS)}"
        )
    check_rules(attributes.get(wire.RULE), level)
    return {k: v for k, v in attributes.items() if k not in ("id", "status")}


def check_rules(rules: Any, level: str) -> None:
    if not isinstance(rules, dict) or not rules or (len(rules) > 1 and level != ORG):
        raise bad(
            "ADMIN-400-1", "Each policy must contain exactly one rule (an org-wide policy may hold several)"
        )
    for name, body in rules.items():
        if name not in wire.RULE_NAMES:
            raise bad("ADMIN-400-1", f"Unknown rule {name}; rules: {', '.join(wire.RULE_NAMES)}")
        allowed = {wire.EFFECT, wire.SUBJECT} if name == DsRule.APP_ACCESS else {wire.EFFECT}
        if (
            not isinstance(body, dict)
            or set(body) - allowed
            or body.get(wire.EFFECT) not in ("block", "allow")
        ):
            raise bad(
                "ADMIN-400-1",
                f'Rule {name} must be {{"effect": "block" | "allow"}}'
                + (" with a subjectId" if name == DsRule.APP_ACCESS else ""),
            )
        if name == DsRule.APP_ACCESS:
            subject = body.get(wire.SUBJECT)
            if not isinstance(subject, str) or not (subject == ALL_APPS or subject.startswith("ari:cloud:")):
                raise bad("ADMIN-400-1", "appAccess.subjectId must be all_apps or an app ARI")
            if level not in wire.APP_ACCESS_LEVELS:
                raise bad("ADMIN-400-1", "App access rules support CONTAINER and ORG coverage only")


def check_draft(state: SiteState, attributes: Mapping[str, Any], itself: str | None) -> None:
    level = level_of(attributes)
    rules = attributes[wire.RULE]
    others = [p for p in state.org_policies.values() if p["id"] != itself]
    if level != ORG:
        for rule in rules:
            subject = subject_of(attributes, rule)
            if not any(
                has_org_rule(p, rule, subject) and status_of(p) != wire.STATUS_DELETED for p in others
            ):
                raise bad("ADMIN-400-24", NO_ORG_RULE)
    key = key_of(attributes)
    if any(status_of(p) == wire.STATUS_DRAFT and key_of(p["attributes"]) == key for p in others):
        raise bad("ADMIN-400-25", REDUNDANT)
    subject = subject_of(attributes, DsRule.APP_ACCESS.value)
    if subject not in ("", ALL_APPS):
        same_level = {
            subject_of(p["attributes"], DsRule.APP_ACCESS.value)
            for p in others
            if status_of(p) != wire.STATUS_DELETED and level_of(p["attributes"]) == level
        }
        if len(same_level - {"", ALL_APPS, subject}) >= MAX_OVERRIDE_APPS:
            raise bad("ADMIN-400-3", f"An app override holds at most {MAX_OVERRIDE_APPS} apps")


def require_draft(policy: Mapping[str, Any], verb: str) -> None:
    status = status_of(policy)
    if status != wire.STATUS_DRAFT:
        raise bad(
            "ADMIN-400-5",
            f"Policy {policy['id']} is {status}; only a draft can be {verb} "
            "(publishDraftPolicies is the only way to modify published policies)",
        )


def has_org_rule(policy: Mapping[str, Any], rule: str, subject: str) -> bool:
    attributes = policy["attributes"]
    return (
        level_of(attributes) == ORG
        and rule in attributes[wire.RULE]
        and subject_of(attributes, rule) == subject
    )


def level_of(attributes: Mapping[str, Any]) -> str:
    return str(attributes[wire.METADATA][wire.COVERAGE])


def subject_of(attributes: Mapping[str, Any], rule: str) -> str:
    body = attributes[wire.RULE].get(rule)
    return str(body.get(wire.SUBJECT, "")) if isinstance(body, dict) else ""


def key_of(attributes: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Rule(s), level and subject: what "the same draft" and "replaced on publish" compare."""
    rules = attributes[wire.RULE]
    return (level_of(attributes), tuple(sorted((r, subject_of(attributes, r)) for r in rules)))


def status_of(policy: Mapping[str, Any]) -> str:
    return str(policy["attributes"].get("status", ""))


def find_policy(state: SiteState, policy_id: str) -> dict[str, Any]:
    policy = state.org_policies.get(policy_id)
    if policy is None:
        raise AdminHttpError(404, "ADMIN-404-5", f"Policy {policy_id} not found")
    return policy


def public(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as the API shows it: the sandbox's resource list stays inside."""
    return {k: v for k, v in stored.items() if k != RESOURCES}


def new_id(state: SiteState) -> str:
    number = len(state.org_policies)
    while True:
        candidate = str(uuid.uuid5(_IDS, f"{state.org_id}:{number}"))
        if candidate not in state.org_policies:
            return candidate
        number += 1
