"""Writes to a Confluence Cloud site: the backend's ``SiteWriter`` over ``ConfluenceClient``.

Roles sites (confluence-api.md §3.4):

- custom roles: ``POST /wiki/api/v2/space-roles`` (201, the new id), ``PUT .../space-roles/{id}`` and
  ``DELETE .../space-roles/{id}`` (both 202 with a ``taskId``; no documented task endpoint exists, so the
  task ids are kept for the log and apply's verification re-reads the roles instead);
- role assignments: ONE ``POST /wiki/api/v2/spaces/{id}/role-assignments`` per space with a JSON array body,
  an entry without ``roleId`` removing that principal's assignment; the body is split only to stay under the
  5 MB request limit.

Legacy sites (§2.2, §2.5): v1 ``POST /wiki/rest/api/space/{key}/permission`` with a ``user`` (accountId or
``anonymous``) or ``group`` (group id) subject and an ``operation`` key/target, and
``DELETE .../permission/{id}`` with the id from the live read.

Every method does its requests once: the client never retries a write whose outcome is unknown, and
neither does this module (apply re-reads instead).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from reconciler.backend import RoleEntry, Subject
from reconciler.confluence.client import ConfluenceClient
from reconciler.errors import ApiError
from reconciler.live_state import SpaceInfo
from reconciler.model import RoleDef

log = logging.getLogger(__name__)

ROLES_PATH = "/wiki/api/v2/space-roles"
MAX_BODY_BYTES = 5 * 1024 * 1024  # the documented 413 threshold of the role-assignment POST
BODY_BUDGET = MAX_BODY_BYTES - 64 * 1024  # headroom for encoding differences


def role_body(role: RoleDef) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "spacePermissions": sorted(role.permissions),
    }


def entry_body(entry: RoleEntry) -> dict[str, Any]:
    body: dict[str, Any] = {
        "principal": {"principalType": entry.principal.kind.api_type, "principalId": entry.principal_id}
    }
    if entry.role_id is not None:
        body["roleId"] = entry.role_id
    return body


def split_bodies(entries: Sequence[RoleEntry], budget: int = BODY_BUDGET) -> Iterator[list[dict[str, Any]]]:
    """The array bodies to send: all entries in one, unless that would exceed ``budget`` bytes."""
    chunk: list[dict[str, Any]] = []
    size = 2  # "[]"
    for entry in entries:
        body = entry_body(entry)
        cost = len(json.dumps(body, separators=(",", ":")).encode()) + 1
        if chunk and size + cost > budget:
            yield chunk
            chunk, size = [], 2
        chunk.append(body)
        size += cost
    if chunk:
        yield chunk


class ConfluenceWriter:
    """The ``SiteWriter`` of one site, through a client opened for writing."""

    def __init__(self, client: ConfluenceClient, *, body_budget: int = BODY_BUDGET) -> None:
        self._client = client
        self._budget = body_budget
        self.task_ids: list[str] = []  # taskIds of role updates and deletions (202), for the log

    def create_role(self, role: RoleDef) -> str:
        created = self._client.post_json(ROLES_PATH, role_body(role))
        role_id = created.get("id") if isinstance(created, Mapping) else None
        if role_id is None:
            raise ApiError("POST", ROLES_PATH, 201, "the response has no role id")
        return str(role_id)

    def update_role(self, role_id: str, role: RoleDef) -> None:
        answer = self._client.put_json(f"{ROLES_PATH}/{quote(role_id, safe='')}", role_body(role))
        self._note_task(answer)

    def delete_role(self, role_id: str) -> None:
        self._client.delete(f"{ROLES_PATH}/{quote(role_id, safe='')}")

    def set_role_assignments(self, space: SpaceInfo, entries: Sequence[RoleEntry]) -> int:
        path = f"/wiki/api/v2/spaces/{quote(space.id, safe='')}/role-assignments"
        requests = 0
        for body in split_bodies(entries, self._budget):
            requests += 1
            self._client.post_json(path, body, space=space.key)
        return requests

    def add_permission(self, space: SpaceInfo, subject: Subject, permission: str) -> int:
        key, _, target = permission.partition("/")
        path = f"/wiki/rest/api/space/{quote(space.key, safe='')}/permission"
        body = {
            "subject": {"type": subject.type, "identifier": subject.identifier},
            "operation": {"key": key, "target": target},
        }
        created = self._client.post_json(path, body, space=space.key)
        permission_id = created.get("id") if isinstance(created, Mapping) else None
        if permission_id is None:
            raise ApiError("POST", path, 200, "the response has no permission id", space=space.key)
        try:
            return int(permission_id)
        except (TypeError, ValueError):
            raise ApiError("POST", path, 200, f"the response's permission id is not a number: "
                           f"{str(permission_id)[:40]!r}", space=space.key) from None

    def delete_permission(self, space: SpaceInfo, permission_id: int) -> None:
        path = f"/wiki/rest/api/space/{quote(space.key, safe='')}/permission/{int(permission_id)}"
        self._client.delete(path, space=space.key)

    def _note_task(self, answer: Any) -> None:
        task = answer.get("taskId") if isinstance(answer, Mapping) else None
        if task:
            self.task_ids.append(str(task))
            log.info("role change accepted as task %s", task)
