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

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "version", "site", "safety", "people", "roles", "defaults", "spaces", "data_security", "guests", "drift",
)
SPACE_TYPES: tuple[str, ...] = ("global", "collaboration", "knowledge_base", "personal")
# The five data security controls: policy-file name -> the Admin API's rule name (model.DsRule)
CONTROL_RULES: dict[str, str] = {
    "app_access": "appAccess", "export": "export", "public_links": "publicLinks",
    "anonymous_access": "anonymousAccess", "attachment_download": "attachmentDownload",
}
# Keys replaced by the data security language: key -> its new form (one error naming it)
REPLACED_TOP_LEVEL = {
    "app_access": "'app_access:' is replaced by 'data_security:' (org_id, and defaults: {app_access: "
                  "block|allow, apps: {<app ARI>: block|allow}, export: ..., ...}); "
                  "see docs/data-security.md",
}
REPLACED_SPACE = {
    "apps": "'apps: {value}' is replaced by 'data_security: {{app_access: {effect}}}' in the space's entry; "
            "see docs/data-security.md",
}

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
    data_security: ControlsSpec | None = Field(
        None, description="this space's data security controls (overrides of the org defaults)")


EffectValue = Literal["block", "allow"]


class ControlsSpec(_Model):
    """Data security controls: each block or allow; app access also per app (by app ARI)."""

    app_access: EffectValue | None = Field(None, description="every app's access to content")
    apps: dict[str, EffectValue] = Field(
        default_factory=dict, description="app access per app: app ARI (ari:cloud:ecosystem::app/...) -> "
        "block or allow")
    export: EffectValue | None = Field(None, description="page and space export")
    public_links: EffectValue | None = Field(None, description="public links to pages")
    anonymous_access: EffectValue | None = Field(None, description="anonymous (public) access")
    attachment_download: EffectValue | None = Field(None, description="attachment downloads")


class DataSecuritySpec(_Model):
    """The org's data security controls (Admin Control API): the org-wide defaults. Spaces override them
    in their own files (spaces.<KEY>.data_security)."""

    org_id: str = Field(min_length=1, description="the organisation id (admin.atlassian.com)")
    owners: list[str] = Field(default_factory=list,
                              description="CODEOWNERS of this file (the org admins), instead of site.owners")
    defaults: ControlsSpec = Field(description="the org-wide default of each control the tool manages")


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
    data_security: DataSecuritySpec | None = None
    guests: GuestsSpec | None = None
    drift: DriftSpec | None = None


def json_schema_text() -> str:
    """The JSON Schema of a policy file, deterministic (sorted keys, two-space indent, trailing newline)."""
    schema = PolicyFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/acme/confluence-reconciler/schemas/policy.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
