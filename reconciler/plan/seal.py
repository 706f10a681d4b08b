"""A saved plan is a sealed artifact: apply applies only what the policy and the live state produce.

``reconciler apply plan.json`` never trusts the changes in the file. It recomputes the plan from the policy
(whose digest the file names) and a fresh read of the live site (whose fingerprint the file names), and
refuses, before any write, unless the recomputed plan is exactly the saved one; then it applies the
recomputed plan. So a change added or edited by hand (an unassign in an additive space, a role raised to
Admin, a new custom role, a revoke with a made-up id) is never applied: it is named as the first difference.
The design choice (re-plan and compare, rather than a digest over the changes) is in docs/safety.md.

Pure: two plans in, the first difference out, as the plan file shows them (``planfile.dump_plan``).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.plan import Plan
from reconciler.plan.planfile import dump_plan

MAX_SHOWN = 120


def first_difference(saved: Plan, recomputed: Plan) -> str | None:
    """Where ``saved`` differs from ``recomputed`` first, in plan-file terms, or None when they are equal."""
    return _difference(_document(saved), _document(recomputed), "")


def refusal(difference: str) -> str:
    """The one-line refusal of a saved plan whose changes are not the recomputed ones."""
    return (f"the saved plan is not the plan the policy and the live site give, so it was not applied "
            f"(first difference: {difference}); nothing was written; run `reconciler plan` again and "
            "review the new plan")


def _document(plan: Plan) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(dump_plan(plan))
    doc.pop("policy_dir", None)  # where the policy was found, not what the plan does
    return doc


def _difference(saved: Any, recomputed: Any, path: str) -> str | None:
    if isinstance(saved, dict) and isinstance(recomputed, dict):
        return _dict_difference(saved, recomputed, path)
    if isinstance(saved, list) and isinstance(recomputed, list):
        return _list_difference(saved, recomputed, path)
    if saved == recomputed and type(saved) is type(recomputed):
        return None
    return f"{path}: {_shown(saved)} in the saved plan, {_shown(recomputed)} recomputed"


def _dict_difference(saved: dict[str, Any], recomputed: dict[str, Any], path: str) -> str | None:
    for key in sorted(set(saved) | set(recomputed)):
        where = f"{path}.{key}" if path else key
        if key not in recomputed:
            return f"{where}: only in the saved plan ({_shown(saved[key])})"
        if key not in saved:
            return f"{where}: missing from the saved plan (the policy gives {_shown(recomputed[key])})"
        found = _difference(saved[key], recomputed[key], where)
        if found:
            return found
    return None


def _list_difference(saved: list[Any], recomputed: list[Any], path: str) -> str | None:
    for index, (mine, theirs) in enumerate(zip(saved, recomputed, strict=False)):
        found = _difference(mine, theirs, f"{path}[{index}]")
        if found:
            return found
    if len(saved) > len(recomputed):
        return (f"{path}[{len(recomputed)}]: in the saved plan but not produced by the policy and the "
                f"live site ({_shown(saved[len(recomputed)])})")
    if len(recomputed) > len(saved):
        return (f"{path}[{len(saved)}]: produced by the policy and the live site but not in the saved "
                f"plan ({_shown(recomputed[len(saved)])})")
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."
