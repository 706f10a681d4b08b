"""Issue 12, item 5: the sandbox and the tool against Atlassian's published specs (2026-04 v2, 2025-11 v1).

Every answer the sandbox gave the tool validates against the operation's response schema, every status is
declared for the operation, every call the tool made (and every path literal in its code) exists in the
spec, and every request body the tool's writers built validates against the request schema. The Admin API
(``/admin/``, ``/_edge/``) has no published copy here and is checked by the data-security work instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.sandbox.conformance import spec
from tests.sandbox.conformance.recorder import Exchange

REPO = Path(__file__).resolve().parents[3]
OUT_OF_SCOPE = ("/admin/", "/_edge/", "/_sandbox/")

# Every operation the tool uses; a recording without one of them proves nothing about it.
EXPECTED = {
    "GET /wiki/api/v2/space-role-mode",
    "GET /wiki/api/v2/space-roles",
    "POST /wiki/api/v2/space-roles",
    "PUT /wiki/api/v2/space-roles/{id}",
    "DELETE /wiki/api/v2/space-roles/{id}",
    "GET /wiki/api/v2/space-permissions",
    "GET /wiki/api/v2/spaces",
    "GET /wiki/api/v2/spaces/{id}/role-assignments",
    "POST /wiki/api/v2/spaces/{id}/role-assignments",
    "GET /wiki/api/v2/spaces/{id}/permissions",
    "GET /wiki/rest/api/group",
    "POST /wiki/rest/api/space/{spaceKey}/permission",
    "DELETE /wiki/rest/api/space/{spaceKey}/permission/{id}",
    "GET /wiki/rest/api/user/bulk",
    "GET /wiki/rest/api/user/current",
}


def _confluence(exchanges: list[Exchange]) -> list[Exchange]:
    return [e for e in exchanges if not any(part in e.path for part in OUT_OF_SCOPE)]


def test_the_recording_covers_every_operation_the_tool_uses(tool_exchanges: list[Exchange]) -> None:
    used = {op.name for e in _confluence(tool_exchanges) if (op := spec.find(e.method, e.path))}
    assert EXPECTED - used == set()


def test_every_call_the_tool_made_exists_in_the_spec(tool_exchanges: list[Exchange]) -> None:
    unknown = sorted({f"{e.method} {e.path}" for e in _confluence(tool_exchanges)
                      if spec.find(e.method, e.path) is None})
    assert unknown == []


def test_every_status_the_sandbox_answered_is_declared(tool_exchanges: list[Exchange]) -> None:
    undeclared = sorted({f"{op.name} -> {e.status}" for e in _confluence(tool_exchanges)
                         if (op := spec.find(e.method, e.path)) and e.status not in op.statuses()})
    assert undeclared == []


def test_every_answer_validates_against_its_response_schema(tool_exchanges: list[Exchange]) -> None:
    failures: dict[str, list[str]] = {}
    checked = 0
    for exchange in _confluence(tool_exchanges):
        operation = spec.find(exchange.method, exchange.path)
        if operation is None or operation.response_schema(exchange.status) is None:
            continue
        checked += 1
        errors = spec.response_errors(operation, exchange.status, exchange.response_body)
        if errors:
            failures.setdefault(f"{operation.name} -> {exchange.status}", errors[:3])
    assert failures == {}
    assert checked > 100


def test_every_request_body_the_tool_built_validates_against_the_request_schema(
    tool_exchanges: list[Exchange],
) -> None:
    failures: dict[str, list[str]] = {}
    bodies = 0
    for exchange in _confluence(tool_exchanges):
        if exchange.method not in ("POST", "PUT"):
            continue
        operation = spec.find(exchange.method, exchange.path)
        assert operation is not None, exchange.call
        bodies += 1
        errors = spec.request_errors(operation, exchange.request_body)
        if errors:
            failures.setdefault(operation.name, errors[:3])
    assert failures == {}
    assert bodies >= 4


def test_every_v1_write_the_tool_made_carried_the_xsrf_header(tool_exchanges: list[Exchange]) -> None:
    writes = [e for e in _confluence(tool_exchanges) if e.method != "GET" and "/rest/api/" in e.path]
    assert writes
    assert {e.headers.get("x-atlassian-token") for e in writes} == {"no-check"}


def _path_literals() -> set[str]:
    """Every ``/wiki/...`` path written in the tool's code (f-string parts as ``{x}``; V1/V2 expanded)."""
    prefixes = {"V1": "/wiki/rest/api", "V2": "/wiki/api/v2"}
    found: set[str] = set()
    for file in (REPO / "reconciler").rglob("*.py"):
        if "sandbox" in file.parts:
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(
                    part.value if isinstance(part, ast.Constant) and isinstance(part.value, str)
                    else prefixes.get(getattr(part.value, "id", ""), "{x}")
                    if isinstance(part, ast.FormattedValue) else "" for part in node.values
                )
            else:
                continue
            if text.startswith(("/wiki/api/v2/", "/wiki/rest/api/")) and " " not in text:
                found.add(text)
    return found


def test_every_path_in_the_tools_code_exists_in_the_spec() -> None:
    literals = _path_literals()
    assert "/wiki/api/v2/space-roles" in literals  # the scan sees the writers' paths
    assert sorted(p for p in literals if not spec.path_exists(p)) == []
