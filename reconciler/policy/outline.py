"""What a policy says before its ``spaces/`` files are read: enough to start reading the site.

The loader reads every file outside ``spaces/`` first (``site.yaml``, people, roles, defaults: a few
files), then the ``spaces/<KEY>.yaml`` files (the bulk: 10,000 at 10,000 spaces). Between the two it can
hand a ``PolicyOutline`` to its caller, who starts reading the site while the rest loads
(``flows/overlap.py``). An outline is only a head start: the loaded policy decides what is planned, and a
key from a file name that the loaded policy does not manage is never planned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reconciler.model import Platform
from reconciler.policy.platform import platform_of
from reconciler.policy.schema import PolicyFile

# a space key as it can go into `GET /spaces?keys=` (a comma would split it): letters, digits, and for
# personal spaces `~` and an account id's `:`/`-`; anything else is left to the finish of the read
_KEY = re.compile(r"~?[A-Za-z0-9][A-Za-z0-9_:-]*")


@dataclass(frozen=True, slots=True)
class PolicyOutline:
    """The site settings (as ``SiteSettings`` will hold them) and the space keys known so far."""

    url: str
    platform: Platform
    platform_auto: bool
    allow_jsonrpc: bool
    keys: frozenset[str]  # from spaces/<KEY>.yaml names and the spaces: of the other files
    selectors: bool  # the policy has defaults rules: the read lists every current space


def outline_of(outside: Iterable[PolicyFile], space_files: Iterable[Path]) -> PolicyOutline | None:
    """The outline of the files outside ``spaces/`` (parsed) and the names of those in it; None when the
    files outside ``spaces/`` do not declare exactly one ``site:``."""
    specs = list(outside)
    sites = [spec.site for spec in specs if spec.site is not None]
    if len(sites) != 1:
        return None
    site = sites[0]
    named = {path.stem for path in space_files}
    named.update(key for spec in specs for key in (spec.spaces or {}))
    return PolicyOutline(
        url=site.url,
        platform=platform_of(site),
        platform_auto=site.platform == "auto",
        allow_jsonrpc=site.jsonrpc == "allow",
        keys=frozenset(key for key in named if _KEY.fullmatch(key)),
        selectors=any(spec.defaults for spec in specs),
    )
