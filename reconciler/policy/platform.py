"""Which Confluence a policy is for, decided offline, and the Data Center rules of the policy language.

``site.platform`` wins when it is ``cloud`` or ``datacenter``. With ``auto`` (the default) the URL decides:
``sandbox:dc-...`` and a URL with a context path other than ``/wiki`` (``https://host/confluence``) mean
Data Center; ``*.atlassian.net``, the API gateway, other sandboxes and bare hosts mean Cloud (a DC site
at a host root needs ``platform: datacenter``). Online, the Data Center backend also checks that the site
answers ``GET /rest/api/server-information`` (docs/datacenter.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import Problem
from reconciler.model import ACCESS_CLASSES, Platform
from reconciler.permissions import CLOUD_TO_DC, DC_MISSING, DC_PERMISSIONS
from reconciler.policy.document import Entry, Merged
from reconciler.policy.schema import SiteSpec

ANONYMOUS_CLASS = "anonymous-users"


def platform_of(site: SiteSpec | None) -> Platform:
    if site is None:
        return Platform.CLOUD
    if site.platform != "auto":
        return Platform(site.platform)
    return platform_of_url(site.url)


def platform_of_url(url: str) -> Platform:
    text = url.strip()
    if text.startswith("sandbox:"):
        return Platform.DATACENTER if text.removeprefix("sandbox:").startswith("dc-") else Platform.CLOUD
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        return Platform.CLOUD  # malformed: the Cloud URL check reports it
    if parts.scheme not in ("http", "https") or not host:
        return Platform.CLOUD  # not a URL at all: the site check reports it
    if host.endswith(".atlassian.net") or host == "api.atlassian.com":
        return Platform.CLOUD
    path = parts.path.rstrip("/")
    return Platform.DATACENTER if path not in ("", "/wiki") else Platform.CLOUD


def merged_platform(merged: Merged) -> Platform:
    return platform_of(merged.site.value if merged.site else None)


def dc_permission_problem(perm: str) -> str | None:
    """Why ``perm`` cannot be a Data Center grant, or None when it is one of DC's 14 pairs."""
    if perm in DC_PERMISSIONS:
        return None
    if perm in CLOUD_TO_DC:
        return f"'{perm}' is called '{CLOUD_TO_DC[perm]}' on Data Center; write '{CLOUD_TO_DC[perm]}'"
    if perm in DC_MISSING:
        return f"'{perm}' does not exist on Data Center; remove it"
    return None  # unknown everywhere: the generic check reports it with a suggestion


def class_problem(ref: str) -> str | None:
    kind, _, rest = ref.partition(":")
    if kind == "class" and rest != ANONYMOUS_CLASS and rest in ACCESS_CLASSES:
        return (f"access class '{rest}' does not exist on Data Center (only class:anonymous-users); use a "
                "group such as confluence-users instead")
    return None


def check_datacenter(merged: Merged) -> Iterator[Problem]:
    """What a Data Center site cannot have: role mode, guests, data security controls, other access
    classes (evidence/datacenter.md A.6, A.12)."""
    if merged_platform(merged) is not Platform.DATACENTER:
        return
    yield from _site_level(merged)
    yield from _space_level(merged)


def _site_level(merged: Merged) -> Iterator[Problem]:
    site = merged.site
    if site is not None and site.value.model == "roles":
        yield site.problem(("model",), "Data Center has no space roles: roles are compiled into permissions; "
                           "remove site.model or set it to legacy", at="value")
    for handle, entry in merged.people.items():
        if getattr(entry.value, "guest", False):
            yield entry.problem(("guest",), f"'{handle}': Data Center has no guests; remove guest: true",
                                at="value")
    if merged.guests is not None:
        yield merged.guests.problem((), "Data Center has no guests; remove the guests: section", parent=True)
    if merged.data_security is not None:
        yield merged.data_security.problem((), "data security controls do not exist on Data Center; remove "
                                           "the data_security: section", parent=True)
    if merged.safety is not None:
        for i, ref in enumerate(merged.safety.value.protected):
            message = class_problem(ref)
            if message is not None:
                yield merged.safety.problem(("protected", i), message, at="value")


def _space_level(merged: Merged) -> Iterator[Problem]:
    for entry in merged.spaces.values():
        if entry.value.data_security is not None:
            yield entry.problem(("data_security",), "data security controls do not exist on Data Center; "
                                "remove data_security:")
        yield from _classes(entry, "assign", entry.value.assign)
        yield from _classes(entry, "grants", entry.value.grants)
        for ref, perms in entry.value.grants.items():
            for i, perm in enumerate(perms if isinstance(perms, list) else []):
                message = dc_permission_problem(perm)
                if message is not None:
                    yield entry.problem(("grants", ref, i), message, at="value")
    for rule in merged.defaults:
        yield from _classes(rule, "assign", rule.value.assign)


def _classes(entry: Entry[Any], section: str, refs: dict[str, Any]) -> Iterator[Problem]:
    for ref in refs:
        message = class_problem(ref)
        if message is not None:
            yield entry.problem((section, ref), message, parent=True)
