"""Atlassian's published OpenAPI documents, read from ``<repo>/../shared/refdata`` (else
/work/shared/refdata), with the few live deviations third parties recorded (``OVERLAY``), and checks
against them.

The documents are never copied into the project: tests that need them skip, with the reason, when neither
folder exists.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

REPO = Path(__file__).resolve().parents[3]
CANDIDATES = (REPO.parent / "shared" / "refdata", Path("/work/shared/refdata"))
V2_FILE = "confluence-cloud-v2.openapi.2026-04.json"
V1_FILE = "confluence-cloud-v1.openapi.2025-11.yaml"
V2_PREFIX, V1_PREFIX = "/wiki/api/v2", "/wiki"  # the v1 document's paths have "/wiki" pruned

# Where third parties saw a live site answer outside the published schema, the sandbox answers as the live
# site does, and the conformance check accepts it: (schema pointer, enum values added, source).
LIVE_OPERATION_KEYS = (
    "export_content", "archive_space", "delete_space", "manage_content", "manage_guest_users",
    "manage_look_and_feel", "manage_nonlicensed_users", "manage_public_links", "manage_templates",
    "manage_users",
)
OVERLAY: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("v2:SpacePermissionAssignment.principal.type", ("access-class",),
     "[2nd] folio-sec api/confluence/v2/overlay.yaml: access-class principals appear in permission reads"),
    ("v2:SpacePermissionAssignment.operation.key", LIVE_OPERATION_KEYS,
     "[2nd] folio-sec api/confluence/v2/overlay.yaml: operation keys beyond the spec enum"),
)


def refdata() -> Path:
    for folder in CANDIDATES:
        if (folder / V2_FILE).is_file() and (folder / V1_FILE).is_file():
            return folder
    pytest.skip(f"Atlassian's specs are not there: none of {', '.join(str(c) for c in CANDIDATES)} "
                f"holds {V2_FILE} and {V1_FILE}")


@functools.cache
def _documents() -> tuple[dict[str, Any], dict[str, Any]]:
    folder = refdata()
    v2 = json.loads((folder / V2_FILE).read_text(encoding="utf-8"))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    v1 = yaml.load((folder / V1_FILE).read_text(encoding="utf-8"), Loader=loader)
    v2 = copy.deepcopy(v2)
    for pointer, values, _source in OVERLAY:
        _widen_enum(v2, pointer, values)
    return v2, v1


def _widen_enum(doc: dict[str, Any], pointer: str, values: tuple[str, ...]) -> None:
    _, _, dotted = pointer.partition(":")
    name, *props = dotted.split(".")
    node = doc["components"]["schemas"][name]
    for prop in props:
        node = node["properties"][prop]
    node["enum"] = [*node["enum"], *(v for v in values if v not in node["enum"])]


@dataclass(frozen=True)
class Operation:
    api: str  # "v1" | "v2"
    method: str
    template: str  # as the tool calls it: /wiki/api/v2/spaces/{id}
    op: dict[str, Any]
    doc: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    def statuses(self) -> set[int]:
        return {int(code) for code in self.op["responses"] if code.isdigit()}

    def response_schema(self, status: int) -> dict[str, Any] | None:
        response = self._deref(self.op["responses"].get(str(status)) or {})
        content = response.get("content") or {}
        for media in ("application/json", "application/json;charset=UTF-8", "*/*"):
            if media in content and "schema" in content[media]:
                return dict(content[media]["schema"])
        return None

    def request_schema(self) -> dict[str, Any] | None:
        body = self._deref(self.op.get("requestBody") or {})
        content = body.get("content") or {}
        media = content.get("application/json")
        return dict(media["schema"]) if media and "schema" in media else None

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = _resolve(self.doc, node["$ref"])
        return node


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return dict(node)


@functools.cache
def operations() -> tuple[Operation, ...]:
    v2, v1 = _documents()
    found: list[Operation] = []
    for api, doc, prefix in (("v2", v2, V2_PREFIX), ("v1", v1, V1_PREFIX)):
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method in ("get", "put", "post", "delete", "patch"):
                    found.append(Operation(api, method.upper(), prefix + path, op, doc))
    return tuple(found)


@functools.cache
def _matchers() -> tuple[tuple[re.Pattern[str], Operation], ...]:
    pairs = []
    for operation in operations():
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(operation.template))
        pairs.append((re.compile(f"^{regex}/?$"), operation))
    # literal segments win over parameters: /group/by-id before /group/{groupId}
    pairs.sort(key=lambda pair: pair[1].template.count("{"))
    return tuple(pairs)


def find(method: str, path: str) -> Operation | None:
    """The operation a concrete call (``GET /wiki/api/v2/spaces/123/permissions``) is, or None."""
    path = re.sub(r"^/ex/confluence/[^/]+", "", path)
    for pattern, operation in _matchers():
        if operation.method == method and pattern.match(path):
            return operation
    return None


def path_exists(path: str) -> bool:
    """Whether a path template the tool uses (``{x}`` for any parameter) exists with some method."""
    probe = re.sub(r"\{[^}]*\}", "x1", path.split("?", maxsplit=1)[0])
    return any(pattern.match(probe) for pattern, _ in _matchers())


def _errors(
    validator: Callable[..., Any], schema: dict[str, Any], doc: dict[str, Any], data: Any
) -> Iterator[str]:
    wrapped = {**schema, "components": doc["components"]}
    for error in validator(wrapped).iter_errors(data):
        yield _describe(error)


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message[:200]}"


def response_errors(operation: Operation, status: int, body: Any) -> list[str]:
    schema = operation.response_schema(status)
    if schema is None:
        return []
    return list(_errors(OAS30ReadValidator, schema, operation.doc, body))


def request_errors(operation: Operation, body: Any) -> list[str]:
    schema = operation.request_schema()
    if schema is None:
        return ["no request body is declared for this operation"]
    return list(_errors(OAS30WriteValidator, schema, operation.doc, body))
