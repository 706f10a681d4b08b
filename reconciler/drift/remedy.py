"""The exact policy edit that adopts a difference, and the command that reverts it.

Adopting means changing the policy so that it describes what the site holds now; reverting means making
the site match the policy again (``reconciler apply``). A policy edit names the file, the dotted place in
it and the YAML line; an edit of an existing line names its line number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.drift.findings import Remedy
from reconciler.drift.yamltext import policy_ref, scalar
from reconciler.model import DesiredState, EffectiveSpace, Principal, Source


@dataclass(frozen=True, slots=True)
class RemedyContext:
    """What remedies need to know about the policy: its directory, people and where each space is declared."""

    policy_dir: str
    handles: dict[str, str]  # account id -> people handle
    space_files: dict[str, str]  # space key -> file of its spaces: entry

    @classmethod
    def of(cls, desired: DesiredState, effective: Iterable[EffectiveSpace]) -> RemedyContext:
        files = {s.key: s.declared_at.file for s in effective if s.declared_at is not None}
        files.update({k: s.source.file for k, s in desired.spaces.items()})
        return cls(
            policy_dir=desired.policy_dir,
            handles={p.account_id: p.handle for p in desired.people.values()},
            space_files=files,
        )

    def ref(self, principal: Principal) -> str:
        """How the policy writes this principal: ``user:<handle>`` when the policy knows the person."""
        return policy_ref(principal, self.handles)

    def space_file(self, key: str) -> str:
        return self.space_files.get(key, f"{self.policy_dir}/spaces/{key}.yaml")

    def apply(self) -> Remedy:
        return Remedy("run", command=f"reconciler apply {self.policy_dir}")

    def set_line(self, key: str, principal: Principal, value: str, source: Source | None,
                 section: str = "assign") -> Remedy:
        """Write ``<principal>: <value>`` for this space: edit the declaring line when it is in the space's
        own entry, otherwise add an entry there (which wins over a ``defaults`` rule). Under ``assign`` the
        value is a role name (quoted here as YAML needs); under ``grants`` it is a list already written by
        ``flow``."""
        line = f"{scalar(self.ref(principal))}: {scalar(value) if section == 'assign' else value}"
        where = f"spaces.{key}.{section}"
        if source is not None and source.file == self.space_file(key):
            return Remedy(f"change line {source.line} to", file=source.file, where=where, yaml=line)
        action = f"add under {where}"
        if key not in self.space_files:
            action += " (a new file)"
        return Remedy(action, file=self.space_file(key), where=where, yaml=line)

    def delete_line(self, key: str, principal: Principal, value: str, source: Source | None,
                    section: str = "assign") -> Remedy:
        """Stop desiring a principal: delete its line in the space's entry, or set it to ``none`` there
        when it comes from a ``defaults`` rule."""
        if source is not None and source.file == self.space_file(key):
            return Remedy(f"delete line {source.line}", file=source.file, where=f"spaces.{key}.{section}",
                          yaml=f"{scalar(self.ref(principal))}: {value}")
        return self.set_line(key, principal, "none", None, section)
