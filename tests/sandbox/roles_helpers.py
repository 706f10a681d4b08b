"""Role ids and role-assignment entries for requests against a sandbox site."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.site import Site


def role_id_of(site: Site, name: str) -> str:
    role = site.state.role_by_name(name)
    assert role is not None
    return role.id


def assignment(ptype: str, pid: str, role_id: str | None = None) -> dict[str, Any]:
    """One entry of a role-assignment body (no ``roleId``: the entry removes the principal's role)."""
    entry: dict[str, Any] = {"principal": {"principalType": ptype, "principalId": pid}}
    if role_id is not None:
        entry["roleId"] = role_id
    return entry
