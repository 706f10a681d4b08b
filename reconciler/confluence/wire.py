"""Response payloads of the Confluence REST API (confluence-api.md §2, §3, §7), converted at once.

pydantic lives only here, at the border: each model ignores fields it does not know and converts itself
to the domain objects of ``reconciler.model``. A payload that does not fit raises ``WireError`` (turned
into an ``ApiError`` by the fetch stage, naming the call).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from reconciler.live_state import LiveRole, SpaceInfo
from reconciler.model import PrincipalKind, RoleMode


class WireError(ValueError):
    """A response body that does not have the documented shape."""


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @classmethod
    def parse(cls, data: Any) -> Any:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise WireError(f"unexpected {cls.__name__} payload: {where}: {first['msg']}") from None


def _as_str(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IdStr = Annotated[str, BeforeValidator(_as_str)]  # v2 ids are strings in JSON; accept integers too


class SpaceWire(WireModel):
    """An item of ``GET /wiki/api/v2/spaces``."""

    id: IdStr
    key: str
    name: str = ""
    type: str = "global"
    status: str = "current"

    def to_model(self) -> SpaceInfo:
        return SpaceInfo(key=self.key, id=self.id, name=self.name, type=self.type, status=self.status)


class RoleModeWire(WireModel):
    """``GET /wiki/api/v2/space-role-mode``; an absent ``mode`` means a site without roles."""

    mode: str | None = None

    def to_model(self) -> RoleMode:
        if self.mode is None:
            return RoleMode.PRE_ROLES
        try:
            return RoleMode(self.mode.upper())
        except ValueError:
            raise WireError(f"unknown space role mode {self.mode!r}") from None


class RoleWire(WireModel):
    """An item of ``GET /wiki/api/v2/space-roles`` (early versions said ``displayName``)."""

    id: IdStr
    type: str = "CUSTOM"
    name: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    description: str | None = ""
    space_permissions: list[str] = Field(default_factory=list, alias="spacePermissions")

    def to_model(self) -> LiveRole:
        name = self.name or self.display_name
        if not name:
            raise WireError(f"space role {self.id} has no name")
        return LiveRole(
            id=self.id,
            name=name,
            type=self.type.upper(),
            description=self.description or "",
            permissions=frozenset(self.space_permissions),
        )


class AssignmentPrincipalWire(WireModel):
    principal_type: str = Field(alias="principalType")
    principal_id: str = Field(alias="principalId")


class RoleAssignmentWire(WireModel):
    """An item of ``GET /wiki/api/v2/spaces/{id}/role-assignments``."""

    principal: AssignmentPrincipalWire
    role_id: str = Field(alias="roleId")

    def kind(self) -> PrincipalKind:
        return principal_kind(self.principal.principal_type)


class PermissionPrincipalWire(WireModel):
    type: str
    id: IdStr | None = None


class OperationWire(WireModel):
    key: str
    target_type: str = Field(alias="targetType")


class SpacePermissionWire(WireModel):
    """An item of ``GET /wiki/api/v2/spaces/{id}/permissions`` (one legacy permission)."""

    id: IdStr
    principal: PermissionPrincipalWire
    operation: OperationWire

    @property
    def permission(self) -> str:
        return f"{self.operation.key}/{self.operation.target_type}"

    def numeric_id(self) -> int:
        try:
            return int(self.id)
        except ValueError:
            raise WireError(f"space permission id {self.id!r} is not a number") from None


class CataloguePermissionWire(WireModel):
    """An item of ``GET /wiki/api/v2/space-permissions`` (the RBAC permission catalogue)."""

    id: IdStr


class GroupWire(WireModel):
    """A v1 group (``/wiki/rest/api/group``, ``group/by-id``, ``group/by-name``)."""

    id: IdStr
    name: str


class UserWire(WireModel):
    """A user (``/wiki/rest/api/user``, ``users-bulk``)."""

    account_id: str = Field(alias="accountId")
    display_name: str = Field(default="", alias="displayName")


def principal_kind(api_type: str) -> PrincipalKind:
    """``USER``/``GROUP``/``ACCESS_CLASS`` (roles) or ``user``/``group``/``access-class`` (permissions)."""
    try:
        return PrincipalKind.from_api_type(api_type)
    except KeyError:
        raise WireError(f"unknown principal type {api_type!r}") from None
