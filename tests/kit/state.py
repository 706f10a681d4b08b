"""Desired and live state for tests: one constructor each, every field defaulted, and the role catalogues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.live_state import LiveRole, LiveSpace, LiveState
from reconciler.model import (
    Authority,
    DesiredState,
    Principal,
    RoleMode,
    SafetySettings,
    SiteModel,
    SiteSettings,
    Source,
)
from reconciler.permissions import DEFAULT_ROLE_DESCRIPTIONS, DEFAULT_ROLE_PERMISSIONS

ACTOR = Principal.parse_ref("user:svc")

# The one role catalogue of the test kit: the site's documented default roles
# (permissions.DEFAULT_ROLE_PERMISSIONS), as a live site lists them. A test that needs other roles passes
# ``roles=`` to ``live_state`` (custom roles are added on top, never a second catalogue).
SITE_ROLES: Mapping[str, LiveRole] = {
    name: LiveRole(f"id-{name}", name, "SYSTEM", DEFAULT_ROLE_DESCRIPTIONS[name], perms)
    for name, perms in DEFAULT_ROLE_PERMISSIONS.items()
}


def desired_state(
    *,
    url: str = "sandbox:test",
    model: SiteModel = SiteModel.AUTO,
    custom_role_limit: int = 10,
    actor: Principal = ACTOR,
    default_authority: Authority = Authority.EXACT,
    site_source: Source | None = None,
    **fields: Any,
) -> DesiredState:
    """A ``DesiredState``: the site settings from the keywords above, every other field from ``fields``
    (``safety``, ``people``, ``roles``, ``defaults``, ``spaces``, ``data_security``, ``guest_max_role``,
    ``drift_ignore``, ``digest``, ``deleted_roles``), each defaulting to empty."""
    values: dict[str, Any] = {
        "safety": SafetySettings(), "people": {}, "roles": {}, "defaults": (), "spaces": {},
        "data_security": None, "guest_max_role": None, "drift_ignore": (), "digest": "0" * 64,
    }
    values.update(fields)
    site = SiteSettings(url, model, custom_role_limit, actor, default_authority, source=site_source)
    return DesiredState(site=site, **values)


def live_state(
    *spaces: LiveSpace,
    mode: RoleMode = RoleMode.ROLES,
    roles: Mapping[str, LiveRole] = SITE_ROLES,
    permissions: frozenset[str] | None = None,
    **fields: Any,
) -> LiveState:
    """A ``LiveState`` of ``spaces`` (by key); ``permissions`` defaults to every permission of ``roles``;
    ``fields``: ``group_ids``, ``unmanaged``, ``missing``, ``data_security``, ... (default: empty)."""
    catalogue = permissions
    if catalogue is None:
        catalogue = frozenset().union(*(r.permissions for r in roles.values()))
    values: dict[str, Any] = {"group_ids": {}}
    values.update(fields)
    return LiveState(mode=mode, roles=dict(roles), permissions=catalogue,
                     spaces={s.info.key: s for s in spaces}, **values)
