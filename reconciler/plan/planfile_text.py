"""The bulk of a plan file as text: the lists a large plan holds thousands of (role and grant changes, the
spaces in scope, the safety findings), written by one f-string each with json's C string encoder.

``json.dumps`` runs its pure-Python encoder whenever ``indent`` is set; these writers give the bytes it would
give for each item at the depth it sits at in the plan file (a list item of a top-level key), keys in
sorted order, so ``reconciler.plan.planfile.iter_plan`` writes exactly ``json.dumps(doc, indent=2,
sort_keys=True, ensure_ascii=False)`` (a hypothesis test holds every plan's file equal to that re-dump).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from reconciler.model import Principal, Source
from reconciler.plan.changes import AssignmentChange, ChangeKind, GrantChange
from reconciler.plan.plan import PlannedSpace, SafetyFinding

text = json.encoder.encode_basestring  # the C function json.dumps uses with ensure_ascii=False
ITEM = "\n    "  # a list item of a top-level key
_NEXT = "," + ITEM
_BATCH = 1000

# Each kind's name and symbol as JSON strings, looked up once per change.
_KIND_TEXT = {kind: (text(kind.name.lower()), text(kind.symbol)) for kind in ChangeKind}


def items_json(items: Iterable[str]) -> Iterator[str]:
    """A top-level key's list of ``items`` (each already written at its depth), ``_BATCH`` items a piece:
    one encode and one write per piece, not per item."""
    sep, batch = "[" + ITEM, []
    for item in items:
        batch.append(item)
        if len(batch) == _BATCH:
            yield sep + _NEXT.join(batch)
            sep, batch = _NEXT, []
    if batch:
        yield sep + _NEXT.join(batch)
        sep = _NEXT
    yield "\n  ]" if sep == _NEXT else "[]"


def _scalar(value: int | None) -> str:
    return "null" if value is None else repr(value)


def _principal_json(principal: Principal) -> str:
    if not principal.label and not principal.unknown:
        return '{\n        "ref": ' + text(principal.ref) + "\n      }"
    label = f'\n        "label": {text(principal.label)},' if principal.label else ""
    unknown = ',\n        "unknown": true' if principal.unknown else ""
    return f'{{{label}\n        "ref": {text(principal.ref)}{unknown}\n      }}'


def _source_json(source: Source | None) -> str:
    """A source as an item's value (``null`` when None)."""
    if source is None:
        return "null"
    file, line = text(source.file), source.line  # "at" is str(source), "file:line": the file's JSON string
    return (f'{{\n        "at": {file[:-1]}:{line}",'  # with ":line" before its closing quote
            f'\n        "column": {source.column},\n        "file": {file},'
            f'\n        "line": {line}\n      }}')  # an int's format() is its repr(), as json.dumps writes it


def _source_field(source: Source | None) -> str:
    """A change's ``source`` field, left out when None."""
    return "" if source is None else ',\n      "source": ' + _source_json(source)


def assignment_json(change: AssignmentChange) -> str:
    """An assignment change without ``replaces`` (so ``before`` is ``old_role``)."""
    kind, symbol = _KIND_TEXT[change.kind]
    old_role, reason, role = change.old_role, change.reason, change.role
    old = "" if old_role is None else ',\n      "old_role": ' + text(old_role)
    why = ',\n      "reason": ' + text(reason) if reason else ""
    new = "" if role is None else ',\n      "role": ' + text(role)
    return (f'{{\n      "kind": {kind}{old},\n      "principal": {_principal_json(change.principal)}'
            f'{why}{new}{_source_field(change.source)},\n      "space": {text(change.space)},'
            f'\n      "symbol": {symbol}\n    }}')


def grant_json(change: GrantChange) -> str:
    kind, symbol = _KIND_TEXT[change.kind]
    pid = "" if change.permission_id is None else f',\n      "permission_id": {_scalar(change.permission_id)}'
    reason = f',\n      "reason": {text(change.reason)}' if change.reason else ""
    return (f'{{\n      "kind": {kind},\n      "permission": {text(change.permission)}{pid}'
            f',\n      "principal": {_principal_json(change.principal)}{reason}{_source_field(change.source)}'
            f',\n      "space": {text(change.space)},\n      "symbol": {symbol}\n    }}')


def space_json(space: PlannedSpace) -> str:
    defaults = ("[\n        " + ",\n        ".join(map(text, space.defaults)) + "\n      ]"
                if space.defaults else "[]")
    return (f'{{\n      "authority": {text(space.authority.value)},'
            f'\n      "declared_at": {_source_json(space.declared_at)},\n      "defaults": {defaults},'
            f'\n      "id": {text(space.id)},\n      "key": {text(space.key)}\n    }}')


def finding_json(finding: SafetyFinding) -> str:
    where = "null" if finding.space is None else text(finding.space)
    return (f'{{\n      "check": {text(finding.check.value)},\n      "message": {text(finding.message)},'
            f'\n      "space": {where}\n    }}')
