"""The site-wide parts of the Cloud read (role mode, roles, catalogue, group list) and the space lists
that make its scope (``/spaces?keys=`` batches, every current space). ``read.py`` puts them together.

Calls, with ``limit=250`` everywhere (confluence-api.md §3): ``GET /wiki/api/v2/space-role-mode``; on
sites with roles every page of ``/space-roles`` and of the permission catalogue ``/space-permissions``; the
v1 group list (``/wiki/rest/api/group``); the spaces by key in batches of 250, or every current space.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.backend import ReadRequest
from reconciler.confluence.read_protocol import Reader, convert, parse
from reconciler.confluence.wire import CataloguePermissionWire, GroupWire, RoleModeWire, RoleWire, SpaceWire
from reconciler.errors import NotFoundError, PolicyError, Problem, UsageError
from reconciler.live_state import LiveRole, SpaceInfo
from reconciler.model import RoleMode, SiteModel, Source

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
PAGE = 250  # v2 maximum page size
KEYS_BATCH = 250  # /spaces?keys= accepts at most 250 keys
V1_GROUP_PAGE = 200  # v1 group list maximum
ROLE_MODE_PATH = f"{V2}/space-role-mode"
ROLE_MODE_404 = (
    "GET /wiki/api/v2/space-role-mode: 404: the account the tool runs as lacks the 'Can use' global "
    "permission of Confluence, which reading the role mode needs; grant it to that account (or, on a site "
    "without roles, set site.model: legacy)"
)


class SpaceNotFoundError(NotFoundError):
    """Policy spaces the site does not show: deleted, or hidden from the account the tool runs as."""

    def _message(self) -> str:
        noun = "spaces" if self.space and "," in self.space else "space"
        return f"{noun} {self.space}: not found: deleted, or hidden from the account the tool runs as"


class RoleModeHiddenError(NotFoundError):
    """``GET space-role-mode`` answered 404, which the spec documents for a caller without permission to
    view the role mode; the permission it needs is the 'Can use' global permission."""

    def _message(self) -> str:
        return ROLE_MODE_404


def fetch_role_mode(client: Reader) -> RoleMode | None:
    """The site's role mode; None when the call answers 404 (no roles API, or hidden: ``settle_mode``)."""
    try:
        data = client.get_json(ROLE_MODE_PATH)
    except NotFoundError:
        return None
    return convert(parse(RoleModeWire, data, ROLE_MODE_PATH, None).to_model, ROLE_MODE_PATH, None)


def settle_mode(found: RoleMode | None, model: SiteModel, source: Source | None) -> RoleMode:
    """The role mode ``fetch_role_mode`` found, checked against the site model the policy expects: a 404
    is a site without roles for ``legacy`` and ``RoleModeHiddenError`` otherwise; a model that does not fit
    is a ``PolicyError`` at ``source`` (``UsageError`` without one)."""
    if found is None:
        if model is SiteModel.LEGACY:
            return RoleMode.PRE_ROLES  # a site without the roles API at all
        raise RoleModeHiddenError("GET", ROLE_MODE_PATH, 404)
    if model is SiteModel.ROLES and not found.has_roles:
        message = (f"'roles' does not fit this site: it is in {found.value} mode (individual space "
                   "permissions only); set site.model to legacy or auto")
    elif model is SiteModel.LEGACY and not found.has_legacy:
        message = (f"'legacy' does not fit this site: it is in {found.value} mode (roles only, individual "
                   "permissions cannot be read or written); set site.model to roles or auto")
    else:
        return found
    if source is None:
        raise UsageError(message)
    raise PolicyError([Problem(source.file, source.line, source.column, message, path="site.model")])


def fetch_mode(client: Reader, request: ReadRequest) -> RoleMode:
    """The site's role mode, checked against the request's site model."""
    return settle_mode(fetch_role_mode(client), request.model, request.model_source)


def fetch_roles(client: Reader) -> dict[str, LiveRole]:
    """Every space role (system and custom), by name."""
    path = f"{V2}/space-roles"
    roles = [convert(parse(RoleWire, item, path, None).to_model, path, None)
             for item in client.paginate(path, {"limit": PAGE})]
    return {role.name: role for role in sorted(roles, key=lambda r: r.name)}


def fetch_catalogue(client: Reader) -> frozenset[str]:
    """The ids of the site's space permissions (``read/space``, ...)."""
    path = f"{V2}/space-permissions"
    items = client.paginate(path, {"limit": PAGE})
    return frozenset(parse(CataloguePermissionWire, item, path, None).id for item in items)


def fetch_group_names(client: Reader) -> dict[str, str]:
    """Group id -> name, for every group the v1 group list shows."""
    path = f"{V1}/group"
    items = client.paginate_v1(path, {"limit": V1_GROUP_PAGE})
    groups = [parse(GroupWire, item, path, None) for item in items]
    return {group.id: group.name for group in groups}


def fetch_spaces_by_keys(client: Reader, keys: Sequence[str]) -> list[SpaceInfo]:
    """The spaces with these keys that the site shows, through ``keys=`` in batches of 250, read side by
    side (40 batches at 10,000 spaces: one after another they cost seconds before any space is read)."""
    batches = [keys[start : start + KEYS_BATCH] for start in range(0, len(keys), KEYS_BATCH)]
    return [info for found in client.map_concurrently(lambda batch: fetch_key_batch(client, batch), batches)
            for info in found]


def fetch_key_batch(client: Reader, keys: Sequence[str]) -> list[SpaceInfo]:
    """The spaces with these keys (at most ``KEYS_BATCH``) that the site shows: one ``/spaces?keys=``."""
    path = f"{V2}/spaces"
    params = {"keys": ",".join(keys), "limit": PAGE}
    return [parse(SpaceWire, item, path, None).to_model() for item in client.paginate(path, params)]


def fetch_all_spaces(client: Reader) -> list[SpaceInfo]:
    """Every current space the caller can see."""
    path = f"{V2}/spaces"
    items = client.paginate(path, {"status": "current", "limit": PAGE})
    return [parse(SpaceWire, item, path, None).to_model() for item in items]
