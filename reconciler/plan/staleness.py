"""What changed since a saved plan was made, said when apply refuses it as stale.

The plan file holds the live state's fingerprint, not the live state, so the difference is told through
the plan: the saved plan's changes against the changes a fresh read gives, compared structurally
(``plan/structdiff``: deepdiff, keyed by what each change is about, where it was declared left out),
then named as the spaces, principals, custom roles and data security controls involved.

Pure: two plans in, one clause out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconciler.plan.plan import Plan
from reconciler.plan.planfile import dump_plan
from reconciler.plan.structdiff import POSITIONS, changed_keys, keyed
from reconciler.report.escape import data

MAX_NAMED = 8


def what_changed(saved: Plan, recomputed: Plan) -> str:
    """``"what changed: spaces ENG, HR; principals group:eng; roles Legal Reviewer"`` for a stale plan, or
    what can be said when the changes it would make are the same."""
    before, after = _document(saved), _document(recomputed)
    touched = changed_keys(before, after, ignore=(*POSITIONS, "reason"))  # where declared, why: not what
    spaces = sorted({k.removeprefix("space ") for k in touched if k.startswith("space ")})
    changes = [doc for key in touched for doc in (before.get(key), after.get(key))
               if isinstance(doc, dict) and not key.startswith("space ")]
    spaces = sorted(set(spaces) | {str(c["space"]) for c in changes if c.get("space")})
    principals = sorted({str(c["principal"]["ref"]) for c in changes if isinstance(c.get("principal"), dict)})
    roles = sorted({str(c[k]["name"]) for c in changes for k in ("role_def", "old_role_def")
                    if isinstance(c.get(k), dict)})
    controls = sorted({_control(c[k]) for c in changes for k in ("app_policy", "old_app_policy")
                       if isinstance(c.get(k), dict)})
    parts = [f"{label} {_names(names)}" for label, names in
             (("spaces", spaces), ("principals", principals), ("roles", roles), ("controls", controls))
             if names]
    if saved.mode != recomputed.mode:
        parts.insert(0, f"role mode {data(saved.mode)} -> {data(recomputed.mode)}")
    if not parts:
        return ("what changed: the same changes would be planned, but the live state of the "
                f"{len(saved.spaces)} planned space(s) is not the one the plan was made from")
    return "what changed: " + "; ".join(parts)


def _document(plan: Plan) -> dict[str, Any]:
    """The plan's changes and spaces keyed by what they are about (not by their position)."""
    doc = json.loads(dump_plan(plan))
    return {**keyed(doc["spaces"], lambda s: f"space {s['key']}"), **keyed(doc["changes"], _key)}


def _key(change: dict[str, Any]) -> str:
    principal = change.get("principal") or {}
    role = change.get("role_def") or change.get("old_role_def") or {}
    policy = change.get("app_policy") or change.get("old_app_policy") or {}
    return " ".join(str(part) for part in (
        change.get("space", ""), principal.get("ref", ""), change.get("permission", ""), role.get("name", ""),
        _control(policy) if policy else "") if part)


def _control(policy: dict[str, Any]) -> str:
    return "/".join(str(part) for part in (policy.get("rule"), policy.get("coverage"), policy.get("subject"))
                    if part)


def _names(names: Iterable[str]) -> str:
    shown = [data(name) for name in names]
    more = len(shown) - MAX_NAMED
    return ", ".join(shown[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")
