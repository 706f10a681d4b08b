"""The policy language (version 1) as pydantic input models: one ``PolicyFile`` per YAML file.

These models check shape only (keys, types, enums); names are checked against each other in
``checks.py`` after all files are merged. Every model forbids unknown keys. ``reconciler schema`` writes
the JSON Schema of ``PolicyFile`` to ``schemas/policy.schema.json`` for editors.

Where a value may take two shapes (a person as an account id or a mapping; a role or ``none``), a
callable discriminator picks the branch from the value's YAML type, so an error names one branch only.
The branch tags are in ``UNION_TAGS``; the loader strips them from error locations.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "version", "site", "safety", "people", "roles", "defaults", "spaces", "app_access", "guests", "drift",
)
SPACE_TYPES: tuple[str, ...] = ("global", "collaboration", "knowledge_base", "personal")
MAX_APPS_PER_RULE = 20
MAX_SPACES_PER_POLICY = 15  # per rule and product instance; larger rules are split into numbered policies

MAPPING, TEXT, LIST = "(mapping)", "(text)", "(list)"
UNION_TAGS = frozenset({MAPPING, TEXT, LIST})

Authority = Literal["exact", "additive"]


def _mapping_or_text(value: Any) -> str:
    return MAPPING if isinstance(value, dict | BaseModel) else TEXT


def _list_or_text(value: Any) -> str:
    return LIST if isinstance(value, list | tuple) else TEXT


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSpec(_Model):
    """Site-wide settings."""

    url: str = Field(description="https://<site>.atlassian.net, "
                     "https://api.atlassian.com/ex/confluence/<cloudId> or sandbox:<name>; "
                     "CONFLUENCE_URL overrides it")
    model: Literal["roles", "legacy", "auto"] = Field(
        "auto", description="roles | legacy | auto (read GET /wiki/api/v2/space-role-mode)")
    custom_role_limit: int = Field(10, ge=0, description="at most this many custom roles")
    actor: str = Field(description="the people handle the tool runs as; it never loses admin anywhere")
    default_authority: Authority = Field(description="authority of spaces that do not set their own")
    owners: list[str] = Field(default_factory=list,
                              description="CODEOWNERS of every policy file outside spaces/ (@org/team)")
    platform: Literal["cloud", "datacenter", "auto"] = Field(
        "auto", description="cloud | datacenter | auto (from the URL: a context path such as /confluence "
        "or a sandbox:dc-* site means datacenter; otherwise cloud)")
    jsonrpc: Literal["never", "allow"] = Field(
        "never", description="Data Center: allow the legacy JSON-RPC service where the 9.1 REST "
        "space-permission API is missing")


class SafetySpec(_Model):
    """Thresholds every plan is checked against."""

    max_removal_fraction: float = Field(0.25, ge=0, le=1)
    min_admins_per_space: int = Field(1, ge=0)
    protected: list[str] = Field(default_factory=list, description="principals never removed or downgraded")


class PersonSpec(_Model):
    """A person given as a mapping: account id plus flags."""

    account_id: str = Field(min_length=1)
    guest: bool = False


PersonValue = Annotated[
    Annotated[str, Tag(TEXT)] | Annotated[PersonSpec, Tag(MAPPING)],
    Discriminator(_mapping_or_text),
]


class RoleSpec(_Model):
    """A custom role."""

    description: str = ""
    permissions: list[str] = Field(min_length=1, description="permission ids such as read/space")


RoleValue = Annotated[
    Annotated[RoleSpec, Tag(MAPPING)] | Annotated[Literal["none"], Tag(TEXT)],
    Discriminator(_mapping_or_text),
]

GrantValue = Annotated[
    Annotated[list[str], Tag(LIST)] | Annotated[Literal["none"], Tag(TEXT)],
    Discriminator(_list_or_text),
]


class SelectorSpec(_Model):
    """Which spaces a defaults rule applies to."""

    keys: list[str] = Field(min_length=1, description="space key globs, e.g. '*' or 'ENG-*'")
    exclude: list[str] = Field(default_factory=list, description="space key globs to leave out, e.g. '~*'")
    type: list[Literal["global", "collaboration", "knowledge_base", "personal"]] = Field(
        default_factory=list, description="space types; empty means any type")


class DefaultSpec(_Model):
    """Baseline assignments for every space a selector matches."""

    name: str = Field(min_length=1)
    spaces: SelectorSpec
    assign: dict[str, str] = Field(description="principal -> role name or none")


class SpaceSpec(_Model):
    """One space: its owners, authority, role assignments, legacy grants and app blocking."""

    owners: list[str] = Field(default_factory=list, description="CODEOWNERS of this space's file")
    authority: Authority | None = Field(None, description="overrides site.default_authority")
    assign: dict[str, str] = Field(default_factory=dict, description="principal -> role name or none")
    grants: dict[str, GrantValue] = Field(
        default_factory=dict, description="principal -> legacy permission ids, or none (revoke all)")
    apps: Literal["blocked", "allowed"] | None = Field(
        None, description="blocked: this space joins the app access rule")


class BlockSpec(_Model):
    """A blocklist (only) or an allowlist (all_except) of app keys."""

    only: list[str] | None = Field(None, min_length=1)
    all_except: list[str] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> BlockSpec:
        if (self.only is None) == (self.all_except is None):
            raise ValueError("give exactly one of 'only' or 'all_except'")
        return self


BlockValue = Annotated[
    Annotated[Literal["all"], Tag(TEXT)] | Annotated[BlockSpec, Tag(MAPPING)],
    Discriminator(_mapping_or_text),
]


class AppRuleSpec(_Model):
    """One data security policy with an app access rule."""

    name: str = Field(min_length=1)
    block: BlockValue
    spaces: list[str] = Field(default_factory=list)


class AppAccessSpec(_Model):
    """Org-level data security policies (Admin API)."""

    org_id: str = Field(min_length=1)
    rules: list[AppRuleSpec] = Field(default_factory=list)


class GuestsSpec(_Model):
    """Limits for people marked guest: true."""

    max_role: str = "Viewer"


class DriftIgnoreSpec(_Model):
    """Acknowledged drift: not reported until the date passes."""

    space: str = Field(min_length=1)
    principal: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    until: dt.date


class DriftSpec(_Model):
    """Drift report settings."""

    ignore: list[DriftIgnoreSpec] = Field(default_factory=list)


class PolicyFile(_Model):
    """One policy file. Every *.yaml / *.yml under the policy directory is one of these, merged."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="reconciler policy file (version 1)")

    version: Literal[1] | None = None
    site: SiteSpec | None = None
    safety: SafetySpec | None = None
    people: dict[str, PersonValue] | None = None
    roles: dict[str, RoleValue] | None = None
    defaults: list[DefaultSpec] | None = None
    spaces: dict[str, SpaceSpec] | None = None
    app_access: AppAccessSpec | None = None
    guests: GuestsSpec | None = None
    drift: DriftSpec | None = None


def json_schema_text() -> str:
    """The JSON Schema of a policy file, deterministic (sorted keys, two-space indent, trailing newline)."""
    schema = PolicyFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/acme/confluence-reconciler/schemas/policy.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
