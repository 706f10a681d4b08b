"""The narrow seams of apply (re-exported by ``reconciler.apply``): a reader, a writer, an app-policy writer.

The writer takes ids already resolved (group names to ids, role names to ids) and does one write per call;
a backend (``reconciler.backend``, e.g. ``reconciler.confluence.write`` over HTTP) implements it, tests
implement it over a fake site. ``Writer`` (``SiteWriter``), ``RoleEntry``, ``Subject`` and ``PolicyStep``
are the backend contract's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from reconciler.backend import PolicyStep, RoleEntry, SiteWriter, Subject
from reconciler.live_state import LiveRole, LiveState
from reconciler.model import DsRule

__all__ = ["AppPolicyWriter", "PolicyStep", "Reader", "RoleEntry", "Subject", "Writer"]


Writer = SiteWriter  # the backend contract's single-write seam, under the name apply has always used


class Reader(Protocol):
    """Re-reads of live state, all-or-nothing, as the plan was read."""

    def read(self, spaces: Sequence[str]) -> LiveState:
        """The live state of these spaces (empty: the whole scope of the policy)."""
        ...

    def read_roles(self) -> Mapping[str, LiveRole]:
        """The site's roles by name."""
        ...


class AppPolicyWriter(Protocol):
    """Applies every data security change of one rule through the draft -> publish lifecycle."""

    writes: int  # requests that wrote (created, updated, added, published, deleted)

    def apply_rule(self, rule: DsRule, steps: Sequence[PolicyStep]) -> list[str | None]:
        """One result per step: None when done and verified, else why it failed."""
        ...
