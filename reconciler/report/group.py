"""Findings and notes grouped by kind: one line for what many spaces have in common, never one per space.

A plan of 10,000 spaces can carry a safety finding or a note for hundreds of them. Reports show each kind
once, with its count, the first few spaces and where the rest are ("370 spaces would be left with fewer
admins than safety.min_admins_per_space besides the actor: S00003, S00007, … (all 370 in the JSON plan)"),
followed by the first message in full, so the numbers behind the kind stay visible. Fewer than
``GROUP_FROM`` messages of a kind are shown one by one. The JSON plan keeps every message.

- findings are grouped by their check (``SafetyFinding.check``);
- notes are plain sentences; those of the form ``space KEY: rest`` are grouped by ``rest``, so notes that
  say the same thing about different spaces make one line.

Any single line longer than ``LINE_LIMIT`` characters (a note naming every space of a large site) is cut
and says so. Pure: no IO.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from reconciler.plan.plan import SafetyCheck, SafetyFinding

GROUP_FROM = 4  # this many messages of one kind make one line
SHOWN = 6  # spaces named in a grouped line
LINE_LIMIT = 600  # characters of one line before it is cut
_SPACE_NOTE = re.compile(r"^space (\S+): (.+)$", re.DOTALL)

# What a group of findings of one check says; ``{n}`` is the count, the noun follows the number.
FINDING_KINDS: dict[SafetyCheck, tuple[str, str, str]] = {
    SafetyCheck.MIN_ADMINS: ("space", "spaces",
                       "would be left with fewer admins than safety.min_admins_per_space besides the actor"),
    SafetyCheck.ACTOR_ADMIN: ("space", "spaces",
                        "would leave the actor without Admin, so the tool could no longer manage them"),
    SafetyCheck.PROTECTED: ("change", "changes",
                      "would remove or downgrade the actor or a protected principal"),
    SafetyCheck.UNKNOWN_PRINCIPAL: ("space", "spaces", "give access to a group the site does not have"),
    SafetyCheck.GUEST: ("finding", "findings", "about guests"),
    SafetyCheck.REMOVAL_FRACTION: ("finding", "findings", "about the removal fraction"),
}


def group_findings(findings: Sequence[SafetyFinding]) -> tuple[str, ...]:
    """One line per finding, or per check when a check has ``GROUP_FROM`` findings or more."""
    buckets: dict[SafetyCheck, list[SafetyFinding]] = {}
    for finding in findings:
        buckets.setdefault(finding.check, []).append(finding)
    lines: list[str] = []
    for check, members in buckets.items():
        if len(members) < GROUP_FROM:
            lines += [cut(f.message) for f in members]
            continue
        one, many, what = FINDING_KINDS.get(check, ("finding", "findings", f"of check {check.value}"))
        noun = one if len(members) == 1 else many
        keys = _keys(f.space for f in members)
        where = "" if one == "space" else f" in {len(keys)} space{'s' if len(keys) != 1 else ''}"
        head = f"{len(members)} {noun} {what}{where}"
        if keys:
            head += f": {listed(keys)}"
        lines.append(cut(f"{head}; first: {members[0].message}"))
    return tuple(lines)


def group_notes(notes: Sequence[str]) -> tuple[str, ...]:
    """Notes in order; ``space KEY: rest`` notes sharing ``rest`` make one line from ``GROUP_FROM`` on."""
    buckets: dict[str, list[str]] = {}  # rest -> keys, in order of first appearance
    order: list[tuple[str, str]] = []  # ("note", text) or ("group", rest)
    for note in notes:
        match = _SPACE_NOTE.match(note)
        if match is None:
            order.append(("note", note))
            continue
        key, rest = match.groups()
        if rest not in buckets:
            buckets[rest] = []
            order.append(("group", rest))
        buckets[rest].append(key)
    lines: list[str] = []
    for what, text in order:
        if what == "note":
            lines.append(cut(text))
            continue
        keys = buckets[text]
        if len(keys) < GROUP_FROM:
            lines += [cut(f"space {key}: {text}") for key in keys]
        else:
            lines.append(cut(f"{len(keys)} spaces: {text}: {listed(keys)}"))
    return tuple(lines)


def cut(line: str, limit: int = LINE_LIMIT) -> str:
    """``line``, or its first ``limit`` characters and a mark saying the JSON plan has it whole."""
    if len(line) <= limit:
        return line
    return line[:limit].rstrip() + " … (cut; the JSON plan has it whole)"


def _keys(spaces: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(s for s in spaces if s))


def listed(keys: Sequence[str]) -> str:
    if len(keys) <= SHOWN:
        return ", ".join(keys)
    return f"{', '.join(keys[:SHOWN])}, … (all {len(keys)} in the JSON plan)"
