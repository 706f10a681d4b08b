"""The merged policy before resolution: every declared thing with the file and path it came from.

``Entry.problem(...)`` builds a ``Problem`` at the position of a key or value under the entry, with the
dotted path users see (``spaces.ENG.assign``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from reconciler.errors import Problem, Severity
from reconciler.model import Source
from reconciler.policy.schema import (
    DataSecuritySpec,
    DefaultSpec,
    DriftSpec,
    GuestsSpec,
    PersonSpec,
    RoleSpec,
    SafetySpec,
    SiteSpec,
    SpaceSpec,
)
from reconciler.policy.yamlpos import Mark, Path, Positions

T = TypeVar("T")


def dotted(path: Path) -> str:
    """``("spaces", "ENG", "assign")`` -> ``spaces.ENG.assign``; list indexes as ``defaults[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option most like ``word`` (difflib), or a case-insensitive match, or None."""
    choices = sorted(set(options))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {c.lower(): c for c in choices}
    return lowered.get(word.lower())


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest option, or empty."""
    match = closest(word, options)
    return f" (did you mean '{match}'?)" if match else ""


@dataclass(frozen=True, slots=True)
class Doc:
    """One policy file: its display name (``policies/spaces/ENG.yaml``) and where each node starts."""

    file: str
    positions: Positions

    def mark(self, path: Path, at: Literal["key", "value"] = "key") -> Mark:
        return self.positions.of(path) if at == "key" else self.positions.value(path)

    def problem(
        self,
        path: Path,
        message: str,
        *,
        at: Literal["key", "value"] = "key",
        shown: Path | None = None,
        severity: Severity = Severity.ERROR,
    ) -> Problem:
        mark = self.mark(path, at)
        return Problem(self.file, mark.line, mark.column, message,
                       dotted(path if shown is None else shown), severity)

    def source(self, path: Path) -> Source:
        mark = self.positions.keys.get(path) or self.mark(path)  # the key itself, almost always
        return Source(self.file, mark.line, mark.column)

    def where(self, path: Path) -> str:
        mark = self.mark(path)
        return f"{self.file}:{mark.line}:{mark.column}"


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    """A declared value, the file it is in and its path in that file."""

    value: T
    doc: Doc
    path: Path

    def problem(
        self,
        sub: Path,
        message: str,
        *,
        at: Literal["key", "value"] = "key",
        parent: bool = False,
        severity: Severity = Severity.ERROR,
    ) -> Problem:
        """A problem at ``path + sub``; ``parent=True`` shows the parent's path (for problems about a key)."""
        full = (*self.path, *sub)
        shown = full[:-1] if parent and full else full
        return self.doc.problem(full, message, at=at, shown=shown, severity=severity)

    def source(self, *sub: str | int) -> Source:
        return self.doc.source((*self.path, *sub))

    def where(self, *sub: str | int) -> str:
        return self.doc.where((*self.path, *sub))


@dataclass(slots=True)
class Merged:
    """Every file's declarations, merged; duplicates were reported while merging."""

    policy_dir: str
    files: tuple[str, ...] = ()
    seen: set[str] = field(default_factory=set)  # top-level keys written anywhere, valid or not
    version: Entry[int] | None = None
    site: Entry[SiteSpec] | None = None
    safety: Entry[SafetySpec] | None = None
    data_security: Entry[DataSecuritySpec] | None = None
    guests: Entry[GuestsSpec] | None = None
    drift: Entry[DriftSpec] | None = None
    people: dict[str, Entry[str | PersonSpec]] = field(default_factory=dict)
    roles: dict[str, Entry[RoleSpec | Literal["none"]]] = field(default_factory=dict)
    defaults: list[Entry[DefaultSpec]] = field(default_factory=list)
    spaces: dict[str, Entry[SpaceSpec]] = field(default_factory=dict)
