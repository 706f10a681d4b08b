"""The writer's requests on the wire (paths, bodies, ids from answers, the 5 MB split), via MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from reconciler.apply import RoleEntry, Subject
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.write import ConfluenceWriter, split_bodies
from reconciler.errors import ApiError, TransportError
from reconciler.live_state import SpaceInfo
from reconciler.model import Principal, PrincipalKind, RoleDef

ENG = SpaceInfo(key="ENG", id="98305", name="Engineering", type="global")
ROLE = RoleDef("Legal Reviewer", "Reads and comments", frozenset({"read/space", "create/comment"}))


def writer(answers: dict[tuple[str, str], httpx.Response], seen: list[tuple[str, str, object]]
           ) -> ConfluenceWriter:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, body))
        return answers.get((request.method, request.url.path), httpx.Response(500))

    client = ConfluenceClient("https://acme.atlassian.net", transport=httpx.MockTransport(handle),
                              sleep=lambda _s: None)
    return ConfluenceWriter(client)


def test_role_assignments_of_a_space_are_one_post_with_an_array_body() -> None:
    seen: list[tuple[str, str, object]] = []
    path = "/wiki/api/v2/spaces/98305/role-assignments"
    w = writer({("POST", path): httpx.Response(200, json={"results": []})}, seen)
    entries = [
        RoleEntry(Principal(PrincipalKind.GROUP, "eng"), "gid-1", "role-collab"),
        RoleEntry(Principal(PrincipalKind.CLASS, "anonymous-users"), "anonymous-users", None),
        RoleEntry(Principal(PrincipalKind.USER, "5b10"), "5b10", "role-admin"),
    ]
    assert w.set_role_assignments(ENG, entries) == 1
    assert seen == [("POST", path, [
        {"principal": {"principalType": "GROUP", "principalId": "gid-1"}, "roleId": "role-collab"},
        {"principal": {"principalType": "ACCESS_CLASS", "principalId": "anonymous-users"}},
        {"principal": {"principalType": "USER", "principalId": "5b10"}, "roleId": "role-admin"},
    ])]


def test_bodies_are_split_only_to_stay_under_the_size_limit() -> None:
    entries = [RoleEntry(Principal(PrincipalKind.USER, f"u{i}"), f"u{i:04d}", "r") for i in range(100)]
    assert [len(b) for b in split_bodies(entries)] == [100]
    one = len(json.dumps(next(iter(split_bodies(entries[:1])))[0], separators=(",", ":")))
    chunks = list(split_bodies(entries, budget=2 + 30 * (one + 1)))
    assert [len(c) for c in chunks] == [30, 30, 30, 10]
    assert [entry for chunk in chunks for entry in chunk] == next(iter(split_bodies(entries)))


def test_custom_role_create_returns_the_id_of_the_201_and_update_keeps_the_task_id() -> None:
    seen: list[tuple[str, str, object]] = []
    w = writer({
        ("POST", "/wiki/api/v2/space-roles"): httpx.Response(201, json={"id": "uuid-7", "name": ROLE.name}),
        ("PUT", "/wiki/api/v2/space-roles/uuid-7"):
            httpx.Response(202, json={"id": "uuid-7", "taskId": "t-1"}),
        ("DELETE", "/wiki/api/v2/space-roles/uuid-7"): httpx.Response(202, json={"taskId": "t-2"}),
    }, seen)
    assert w.create_role(ROLE) == "uuid-7"
    w.update_role("uuid-7", ROLE)
    w.delete_role("uuid-7")
    body = {"name": "Legal Reviewer", "description": "Reads and comments",
            "spacePermissions": ["create/comment", "read/space"]}
    assert seen == [
        ("POST", "/wiki/api/v2/space-roles", body),
        ("PUT", "/wiki/api/v2/space-roles/uuid-7", body),
        ("DELETE", "/wiki/api/v2/space-roles/uuid-7", None),
    ]
    assert w.task_ids == ["t-1"]


def test_legacy_add_and_delete_use_v1_subject_operation_and_the_live_id() -> None:
    seen: list[tuple[str, str, object]] = []
    w = writer({
        ("POST", "/wiki/rest/api/space/ENG/permission"): httpx.Response(200, json={"id": 12345}),
        ("DELETE", "/wiki/rest/api/space/ENG/permission/777"): httpx.Response(204),
    }, seen)
    assert w.add_permission(ENG, Subject("group", "gid-1"), "create/page") == 12345
    assert w.add_permission(ENG, Subject("user", "anonymous"), "read/space") == 12345
    w.delete_permission(ENG, 777)
    group_body = {"subject": {"type": "group", "identifier": "gid-1"},
                  "operation": {"key": "create", "target": "page"}}
    anonymous_body = {"subject": {"type": "user", "identifier": "anonymous"},
                      "operation": {"key": "read", "target": "space"}}
    assert seen == [
        ("POST", "/wiki/rest/api/space/ENG/permission", group_body),
        ("POST", "/wiki/rest/api/space/ENG/permission", anonymous_body),
        ("DELETE", "/wiki/rest/api/space/ENG/permission/777", None),
    ]


def test_a_5xx_on_a_post_is_raised_once_and_never_retried() -> None:
    seen: list[tuple[str, str, object]] = []
    w = writer({}, seen)
    with pytest.raises(ApiError) as exc:
        w.set_role_assignments(ENG, [RoleEntry(Principal(PrincipalKind.USER, "u"), "u", "r")])
    assert exc.value.status == 500
    assert exc.value.space == "ENG"
    assert len(seen) == 1


def test_a_dropped_connection_on_a_post_is_an_unknown_outcome() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    client = ConfluenceClient("https://acme.atlassian.net", transport=httpx.MockTransport(handle),
                              sleep=lambda _s: None)
    with pytest.raises(TransportError) as exc:
        ConfluenceWriter(client).add_permission(ENG, Subject("group", "g"), "read/space")
    assert "the outcome of this write is unknown" in str(exc.value)
