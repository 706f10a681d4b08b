"""The ``reshape`` knob: answer one of the tool's reads in a deliberately different shape, so tests can show
that ``reconciler doctor`` notices when a site's answers are not what the tool expects. Not a model of any
real behaviour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Item = dict[str, Any]


def _rename(item: Item, old: str, new: str) -> Item:
    return {(new if key == old else key): value for key, value in item.items()}


def _principal_v1_style(item: Item) -> Item:
    principal = item.get("principal") or {}
    return {**item, "principal": {"type": principal.get("principalType"), "id": principal.get("principalId")}}


RESHAPES: dict[str, Callable[[Item], Item]] = {
    "spaces": lambda item: _rename(item, "key", "spaceKey"),
    "roles": lambda item: _rename(item, "spacePermissions", "permissions"),
    "role-assignments": _principal_v1_style,
    "permissions": lambda item: {**item, "operation": (item.get("operation") or {}).get("key")},
    "groups": lambda item: _rename(item, "id", "groupId"),
    "users": lambda item: {k: v for k, v in item.items() if k != "isGuest"},
}


def reshaped(reshape: frozenset[str], kind: str, items: list[Item]) -> list[Item]:
    """``items`` as the read ``kind`` answers them under the knob (unchanged unless ``kind`` is named)."""
    if kind not in reshape:
        return items
    return [RESHAPES[kind](item) for item in items]
