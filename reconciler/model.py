"""Frozen value objects shared by every stage: desired state (policy), live state (site), and sources.

Vocabulary (STYLE.md): **desired** comes from the policy, **live** from the site; an **assignment** is
(space, principal, role); a **grant** is (space, principal, permission) on legacy sites.

Identity rules, decided once here:

- A user is identified by its Atlassian ``accountId``; the policy's people handle is only a label.
- A group is identified by its **name** (what admins write and read); the site's group id is looked up by
  the fetch stage and kept in ``LiveState.group_ids`` for writes.  A group id seen on the site whose name
  cannot be found is kept as ``Principal(GROUP, "<id>", unknown=True)`` so drift can report it.
- An access class is identified by its API id (``anonymous-users``, ...).
- Roles are identified by **name**; live role ids live in ``LiveRole``.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

ACCESS_CLASSES: tuple[str, ...] = (
    "anonymous-users",
    "authenticated-users",
    "all-licensed-users",
    "all-product-admins",
    "jsm-project-admins",
)
DEFAULT_ROLES: tuple[str, ...] = ("Admin", "Manager", "Collaborator", "Viewer")
ADMIN_ROLE = "Admin"
NONE_ROLE = "none"  # the policy's way of saying "remove this principal's access"
READ_SPACE = "read/space"
ADMINISTER_SPACE = "administer/space"


class PrincipalKind(enum.StrEnum):
    USER = "user"
    GROUP = "group"
    CLASS = "class"

    @property
    def api_type(self) -> str:
        """The v2 role-assignment ``principalType``."""
        return {"user": "USER", "group": "GROUP", "class": "ACCESS_CLASS"}[self.value]

    @classmethod
    def from_api_type(cls, value: str) -> PrincipalKind:
        """From a v2 ``principalType`` (``USER``, ``GROUP``, ``ACCESS_CLASS``) or ``principal.type``."""
        mapping = {"USER": cls.USER, "GROUP": cls.GROUP, "ACCESS_CLASS": cls.CLASS}
        return mapping[value.upper().replace("-", "_")]


@dataclass(frozen=True, slots=True, order=True, init=False)
class Principal:
    """Who is granted access: ``user:<accountId>``, ``group:<name>`` or ``class:<access class id>``."""

    kind: PrincipalKind
    id: str
    label: str | None = field(default=None, compare=False, hash=False)  # people handle, for display
    unknown: bool = field(default=False, compare=False, hash=False)  # seen live, not resolvable
    # The stable reference used in plan files, fingerprints and the changes' order: ``user:5b10...``.
    # Made once here: it is read several times per assignment (a property ran Python each time).
    ref: str = field(init=False, repr=False, compare=False, hash=False)

    def __init__(
        self, kind: PrincipalKind, id: str, label: str | None = None, unknown: bool = False  # noqa: A002
    ) -> None:
        # Through the slots' own descriptors (C): a frozen dataclass's generated __init__ goes through
        # object.__setattr__ per field, which made a principal twice as slow to build.
        _set_kind(self, kind)
        _set_id(self, id)
        _set_label(self, label)
        _set_unknown(self, unknown)
        _set_ref(self, kind._value_ + ":" + id)  # _value_: a plain attribute; .value runs Python

    def __hash__(self) -> int:
        # The id alone: equal principals have equal ids, and str hashes are cached in C, whereas the
        # generated hash((kind, id)) calls Enum.__hash__ in Python (hot on sites with 100,000 assignments).
        return hash(self.id)

    @property
    def display(self) -> str:
        """What reports show: the handle for people the policy knows, else the reference."""
        return f"{self.kind.value}:{self.label}" if self.label else self.ref

    def __str__(self) -> str:
        return self.display

    @classmethod
    def parse_ref(cls, ref: str) -> Principal:
        """Parse ``kind:id`` (already resolved; handles are resolved by the policy stage)."""
        kind, _, ident = ref.partition(":")
        return cls(PrincipalKind(kind), ident)


def slot_setters(cls: type, *names: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The C setters of a slotted class's fields, for a frozen dataclass's own ``__init__`` on a hot path:
    they write the slot directly, as ``object.__setattr__`` does, without its lookup by name."""
    return tuple(cls.__dict__[name].__set__ for name in names)


_set_kind, _set_id, _set_label, _set_unknown, _set_ref = slot_setters(
    Principal, "kind", "id", "label", "unknown", "ref"
)


@dataclass(frozen=True, slots=True, order=True)
class Source:
    """Where a desired fact was declared."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Authority(enum.StrEnum):
    EXACT = "exact"  # the policy is the whole truth for the space: unlisted principals are removed
    ADDITIVE = "additive"  # the policy only adds and changes; it removes only what is set to none


class SiteModel(enum.StrEnum):
    ROLES = "roles"
    LEGACY = "legacy"
    AUTO = "auto"


class Platform(enum.StrEnum):
    """Which Confluence the site runs: Cloud (roles, v2 API) or Data Center (permissions only, /rest/api)."""

    CLOUD = "cloud"
    DATACENTER = "datacenter"


class RoleMode(enum.StrEnum):
    """``GET /wiki/api/v2/space-role-mode``."""

    PRE_ROLES = "PRE_ROLES"
    ROLES_TRANSITION = "ROLES_TRANSITION"
    ROLES = "ROLES"

    @property
    def has_roles(self) -> bool:
        return self is not RoleMode.PRE_ROLES

    @property
    def has_legacy(self) -> bool:
        return self is not RoleMode.ROLES


# ---------------------------------------------------------------------------------------------- desired


@dataclass(frozen=True, slots=True)
class Person:
    handle: str
    account_id: str
    guest: bool
    source: Source


@dataclass(frozen=True, slots=True)
class RoleDef:
    """A role as the policy declares it (custom) or as the tool knows it (the four defaults)."""

    name: str
    description: str
    permissions: frozenset[str]
    source: Source | None = None
    system: bool = False


@dataclass(frozen=True, slots=True)
class DesiredAssignment:
    """One principal's desired role in a space; ``role is None`` means ``none`` (remove)."""

    principal: Principal
    role: str | None
    source: Source


@dataclass(frozen=True, slots=True)
class DesiredGrant:
    """One principal's desired legacy permissions in a space; an empty set means ``none`` (revoke all)."""

    principal: Principal
    permissions: frozenset[str]
    source: Source
    compiled_from: str | None = None  # Data Center: the role these permissions were compiled from


@dataclass(frozen=True, slots=True)
class SpaceSelector:
    """A ``defaults`` selector: key globs, excluded globs, space types (empty = any type)."""

    keys: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def matches(self, key: str, space_type: str) -> bool:
        if self.types and space_type not in self.types:
            return False
        if not any(fnmatch.fnmatchcase(key, pattern) for pattern in self.keys):
            return False
        return not any(fnmatch.fnmatchcase(key, pattern) for pattern in self.exclude)


@dataclass(frozen=True, slots=True)
class DefaultRule:
    name: str
    selector: SpaceSelector
    assignments: tuple[DesiredAssignment, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class DesiredSpace:
    key: str
    authority: Authority
    assignments: tuple[DesiredAssignment, ...]
    grants: tuple[DesiredGrant, ...]
    controls: tuple[SpaceControl, ...]  # data security controls the space's owners declare
    owners: tuple[str, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class SiteSettings:
    url: str
    model: SiteModel
    custom_role_limit: int
    actor: Principal
    default_authority: Authority
    owners: tuple[str, ...] = ()  # owners of files outside policies/spaces/ (CODEOWNERS)
    source: Source | None = None
    platform: Platform = Platform.CLOUD
    platform_auto: bool = False  # site.platform: auto (the URL decided); online, a DC answer is reported
    allow_jsonrpc: bool = False  # Data Center: the legacy JSON-RPC service may read and write


@dataclass(frozen=True, slots=True)
class SafetySettings:
    max_removal_fraction: float = 0.25
    min_admins_per_space: int = 1
    protected: tuple[Principal, ...] = ()
    protected_at: Mapping[Principal, Source] = field(default_factory=dict)  # where each is listed


class DsRule(enum.StrEnum):
    """The five data security rules (the JSON names; DAC data security policy cookbook, 2026-02-26)."""

    APP_ACCESS = "appAccess"
    EXPORT = "export"
    PUBLIC_LINKS = "publicLinks"
    ANONYMOUS_ACCESS = "anonymousAccess"
    ATTACHMENT_DOWNLOAD = "attachmentDownload"


class Effect(enum.StrEnum):
    BLOCK = "block"
    ALLOW = "allow"

    @property
    def opposite(self) -> Effect:
        return Effect.ALLOW if self is Effect.BLOCK else Effect.BLOCK


# Limits of one override (support.atlassian.com "Configure an override for a control"): "up to 1000
# Atlassian apps" in the app override, "up to 2000 spaces" in the spaces override. No split: a larger
# override is a validation error.
MAX_OVERRIDE_SPACES = 2000
MAX_OVERRIDE_APPS = 1000
ALL_APPS = "all_apps"  # the app access subject that stands for every app (cookbook)
ORG = "ORG"  # coverage level of an org-wide default (cookbook: "ORG", not ORG_WIDE)
CONTAINER = "CONTAINER"  # coverage level of a spaces override


@dataclass(frozen=True, slots=True)
class OrgControl:
    """An org-wide default of one rule (for app access: of one subject, ``all_apps`` or an app ARI)."""

    rule: DsRule
    effect: Effect
    source: Source
    subject: str = ""  # app access only: ALL_APPS or an app ARI


@dataclass(frozen=True, slots=True)
class SpaceControl:
    """A space's own choice for one rule (for app access: for one subject)."""

    rule: DsRule
    effect: Effect
    source: Source
    subject: str = ""


@dataclass(frozen=True, slots=True)
class DataSecurity:
    """The org-level file's ``data_security:`` section: the org and its defaults."""

    org_id: str
    defaults: tuple[OrgControl, ...]
    source: Source
    owners: tuple[str, ...] = ()  # CODEOWNERS of the file that declares it (org admins)


@dataclass(frozen=True, slots=True)
class DriftIgnore:
    space: str
    principal: Principal
    reason: str
    until: date
    source: Source


@dataclass(frozen=True, slots=True)
class DesiredState:
    """The whole policy directory, validated and resolved (defaults not yet applied to spaces)."""

    site: SiteSettings
    safety: SafetySettings
    people: Mapping[str, Person]  # handle -> person
    roles: Mapping[str, RoleDef]  # custom roles by name
    defaults: tuple[DefaultRule, ...]
    spaces: Mapping[str, DesiredSpace]  # key -> space entry
    data_security: DataSecurity | None
    guest_max_role: str | None
    drift_ignore: tuple[DriftIgnore, ...]
    digest: str  # sha256 of the policy files' bytes, in path order
    policy_dir: str = "policies"
    # custom roles the policy sets to ``none`` under ``roles:`` (delete from the site), name -> where
    deleted_roles: Mapping[str, Source] = field(default_factory=dict)

    @property
    def guests(self) -> frozenset[str]:
        """Account ids of people marked ``guest: true``."""
        return frozenset(p.account_id for p in self.people.values() if p.guest)


@dataclass(frozen=True, slots=True)
class EffectiveSpace:
    """The desired state of one managed space after merging ``defaults`` under its ``spaces:`` entry.

    The space entry wins for every principal it names; ``source`` on each fact says which file and line.
    """

    key: str
    authority: Authority
    assignments: Mapping[Principal, DesiredAssignment]
    grants: Mapping[Principal, DesiredGrant]
    controls: tuple[SpaceControl, ...]
    declared_at: Source | None  # the spaces: entry, None when only defaults match
    defaults: tuple[str, ...] = ()  # names of the defaults rules that matched


# ---------------------------------------------------------------------------- data security policies


@dataclass(frozen=True, slots=True)
class DataSecurityPolicy:
    """One org data security policy: exactly one rule, one coverage level (plans and the org alike).

    ``key`` (rule, coverage, subject) is what the tool manages: the org default of a rule (``ORG``) and
    its spaces override (``CONTAINER``), per subject for app access. ``status`` is the org's (``draft``,
    ``published``, ``deleted``, ...); desired policies are ``published``.
    """

    rule: DsRule
    effect: Effect
    coverage: str
    subject: str = ""  # app access: ALL_APPS or an app ARI; other rules: ""
    spaces: tuple[str, ...] = ()  # space keys (or resource ARIs the site does not map), sorted
    name: str = ""
    status: str = "published"
    id: str | None = None
    source: Source | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule.value, self.coverage, self.subject)


AppPolicy = DataSecurityPolicy  # the name the plan's Change record uses (issue 11 replaces that record)


@dataclass(frozen=True, slots=True)
class UnreadPolicy:
    """A data security policy on the org whose JSON the wire module does not understand (never changed)."""

    id: str
    name: str
    rules: tuple[str, ...]  # the rule names it seems to hold (may be empty)
    problem: str


@dataclass(frozen=True, slots=True)
class OrgPolicies:
    """The org's data security policies, read whole (a failed read raises; it is never "no policies")."""

    policies: tuple[DataSecurityPolicy, ...]
    unread: tuple[UnreadPolicy, ...] = ()
