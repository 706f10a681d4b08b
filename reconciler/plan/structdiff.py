"""What differs between two nested values, said in a few words a reader can act on.

The one place the tool compares structures with deepdiff: a custom role or a data security policy that
drifted (told from the live side: "the site adds delete/page, lacks create/blogpost; description
differs"), and a stale plan's changes (``plan/staleness.py``, through ``changed_keys``). Pure: values in,
text out. Names in the text come from the site: they are data, and the reports escape them with the rest
of an item's detail (``report/escape.py``).

A value is a *document*: a mapping of field -> scalar, set, or a mapping keyed by a stable id (a space
key, a role name: ``keyed`` builds one from records), so a difference is named by what it is about and
never by a list position. Lists are compared as sets (order and repetition left out). Where a fact was
declared is not what it is: the keys in ``POSITIONS`` are left out at every depth.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from deepdiff import DeepDiff

POSITIONS = ("source", "declared_at")  # where a fact was declared, not what it is
_GAINED = ("set_item_added", "iterable_item_added", "dictionary_item_added")
_LOST = ("set_item_removed", "iterable_item_removed", "dictionary_item_removed")
Path = tuple[Any, ...]
Record = TypeVar("Record")


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a document, and how a difference in it is said.

    A set, list or keyed mapping: ``{side} {gained} a, b, {lost} c`` (``gained``: what the live side holds
    and the policy does not; for a mapping, its keys). A scalar: ``{label} is X, policy says Y``, or
    ``{label} differs`` when ``values`` is false (free text such as a description). Deeper down, the
    keys on the way are named: ``rules FIN: effect is allow, policy says block``.
    """

    name: str
    gained: str = "adds"
    lost: str = "lacks"
    values: bool = True
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


def differences(
    live: Mapping[str, Any], policy: Mapping[str, Any], fields: Sequence[Field], *, side: str = "the site"
) -> list[str]:
    """One clause per place that differs, in the order of ``fields`` (only those are compared); empty
    exactly when the two documents are equal in every field named."""
    gained: dict[Path, list[str]] = {}
    lost: dict[Path, list[str]] = {}
    changed: dict[Path, tuple[Any, Any]] = {}
    tree = _deepdiff({f.name: policy.get(f.name) for f in fields}, {f.name: live.get(f.name) for f in fields})
    for report, levels in tree.items():
        for level in levels:
            path = tuple(level.path(output_format="list"))
            if report in _GAINED:
                gained.setdefault(path[:-1], []).append(_item(report, path, level.t2))
            elif report in _LOST:
                lost.setdefault(path[:-1], []).append(_item(report, path, level.t1))
            else:  # values_changed, type_changes
                changed[path] = (level.t2, level.t1)
    clauses = []
    for field in fields:
        places = sorted({p for p in (*gained, *lost, *changed) if p[0] == field.name}, key=_order)
        for place in places:
            steps = [field.title, *(_text(k) for k in place[1:])]
            where = " ".join(steps)
            if place in changed:
                now, wanted = changed[place]
                what = where if len(steps) == 1 else f"{' '.join(steps[:-1])}: {steps[-1]}"
                clauses.append(f"{what} is {_text(now)}, policy says {_text(wanted)}" if field.values
                               else f"{what} differs")
                continue
            verbs = (field.gained, field.lost) if len(place) == 1 else ("adds", "lacks")
            said = [f"{verb} {', '.join(sorted(items))}" for verb, items in
                    zip(verbs, (gained.get(place), lost.get(place)), strict=True) if items]
            clauses.append(("" if len(place) == 1 else f"{where}: ") + f"{side} {', '.join(said)}")
    return clauses


def describe(
    live: Mapping[str, Any], policy: Mapping[str, Any], fields: Sequence[Field], *, side: str = "the site"
) -> str:
    """``differences`` in one line, ``;`` between clauses; empty when equal."""
    return "; ".join(differences(live, policy, fields, side=side))


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any], *, ignore: Iterable[str] = POSITIONS
                 ) -> list[str]:
    """The top-level keys whose values differ (added, removed or changed), ``ignore`` left out anywhere."""
    return [str(key) for key in _deepdiff(before, after, ignore).affected_root_keys]


def keyed(records: Iterable[Record], key: Callable[[Record], str]) -> dict[str, Record]:
    """Records keyed by what each is about, so a difference names it rather than its position."""
    return {key(record): record for record in records}


def _deepdiff(before: Mapping[str, Any], after: Mapping[str, Any], ignore: Iterable[str] = POSITIONS
              ) -> DeepDiff:
    # imported here: deepdiff costs about 70 ms, and every plan imports this module (docs/performance.md)
    from deepdiff import DeepDiff  # noqa: PLC0415

    names = "|".join(re.escape(name) for name in ignore)
    excluded = [rf"\['({names})'\]"] if names else []
    return DeepDiff(_plain(before), _plain(after), ignore_order=True, view="tree",
                    exclude_regex_paths=excluded)


def _plain(value: Any) -> Any:
    """Enums as their values, tuples as lists: what a reader sees, compared as such."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return frozenset(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _item(report: str, path: Path, value: Any) -> str:
    """A set or list item by its value; a mapping's entry by its key (the last step of its path)."""
    return _text(path[-1] if report.startswith("dictionary") else value)


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        return ", ".join(sorted(_text(k) for k in value))
    if isinstance(value, (set, frozenset, list, tuple)):
        return ", ".join(sorted(_text(v) for v in value)) or "none"
    return str(value)


def _order(path: Path) -> tuple[int, tuple[str, ...]]:
    return (len(path), tuple(_text(part) for part in path))
