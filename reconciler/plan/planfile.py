"""The saved plan: the plan as versioned JSON (``format_version: 1``).

The JSON holds what the plan was computed from (site, role mode, policy digest, live fingerprint, scope),
the spaces in scope with their authority, every change with its source ``file:line`` and reason, a summary
and the safety findings. It never holds a secret: nothing from the environment goes into a plan.

Each change is one flat object whose ``kind`` names its family. Two typed facts have fields of their own,
written only when set (so a plan without them reads as before): an assign's ``replaces`` (``old_role`` is
``custom access``; ``{"lost": [...], "permissions": [...]}``) and an app policy change's ``loosens: true``.
Nothing is read back from ``reason``, which is text for people.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from reconciler.errors import PlanFileError
from reconciler.model import (
    Authority,
    DataSecurityPolicy,
    DsRule,
    Effect,
    Principal,
    RoleDef,
    Source,
)
from reconciler.plan.changes import (
    APP_POLICY_KINDS,
    ASSIGNMENT_KINDS,
    CUSTOM_ACCESS,
    ROLE_KINDS,
    AppPolicyChange,
    AssignmentChange,
    Change,
    ChangeKind,
    GrantChange,
    Replacement,
    RoleChange,
    SiteRole,
)
from reconciler.plan.plan import Plan, PlannedSpace, SafetyCheck, SafetyFinding
from reconciler.plan.planfile_text import (
    ITEM,
    assignment_json,
    finding_json,
    grant_json,
    items_json,
    space_json,
    text,
)

E = TypeVar("E", bound=enum.Enum)

FORMAT_VERSION = 1

# ------------------------------------------------------------------------------------------------- dump


def dump_plan(plan: Plan) -> str:
    """The plan file's text: indented JSON with sorted keys, ending in a newline."""
    return "".join(iter_plan(plan))


def iter_plan(plan: Plan) -> Iterator[str]:
    """The plan file's text in pieces, so a large plan is written without one big dict or string.

    The same bytes as ``json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)`` of the whole
    document (a test holds them equal): the top-level keys are written in sorted order, each value is
    indented by the depth it sits at, and the lists a large plan holds thousands of (role and grant changes,
    spaces, findings) are written by ``planfile_text`` rather than through a dict and the pure-Python
    indenting encoder.
    """
    head: dict[str, Any] = {
        "fingerprint": plan.fingerprint,
        "format_version": FORMAT_VERSION,
        "live_assignments": plan.live_assignments,
        "mode": plan.mode,
        "notes": list(plan.notes),
        "policy_digest": plan.policy_digest,
        "safe": plan.safe,
        "scope": list(plan.scope),
        "site": plan.site,
        "summary": _summary(plan),
    }
    if plan.policy_dir:  # optional in format 1: older readers ignore it, older files lack it
        head["policy_dir"] = plan.policy_dir
    lists = {  # the lists a large plan holds thousands of: written item by item (planfile_text)
        "changes": map(_change_json, plan.changes),
        "findings": map(finding_json, plan.findings),
        "held": map(_change_json, plan.held),
        "spaces": map(space_json, plan.spaces),
    }
    first = True
    for key in sorted([*head, *lists]):
        yield ("{\n  " if first else ",\n  ") + text(key) + ": "
        first = False
        if key in lists:
            yield from items_json(lists[key])
        else:
            yield _nested(head[key], "\n  ")
    yield "\n}\n"


def _nested(value: Any, newline: str) -> str:
    """``value`` as ``json.dumps`` writes it, indented for the depth that ``newline`` starts."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", newline)


def _change_json(change: Change) -> str:
    if type(change) is AssignmentChange and change.replaces is None:
        return assignment_json(change)
    if type(change) is GrantChange:
        return grant_json(change)
    return _nested(_change(change), ITEM)


def _summary(plan: Plan) -> dict[str, int]:
    counts = plan.counts  # counted once: each ``counts`` walks every change
    return {kind.name.lower(): counts.get(kind, 0) for kind in ChangeKind}


def _source(source: Source | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {"file": source.file, "line": source.line, "column": source.column, "at": str(source)}


def _principal(principal: Principal) -> dict[str, Any]:
    out: dict[str, Any] = {"ref": principal.ref}
    if principal.label:
        out["label"] = principal.label
    if principal.unknown:
        out["unknown"] = True
    return out


def _role_def(role: RoleDef) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": sorted(role.permissions),
        "source": _source(role.source),
        "system": role.system,
    }


def _app_policy(policy: DataSecurityPolicy) -> dict[str, Any]:
    return {
        "rule": policy.rule.value,
        "effect": policy.effect.value,
        "coverage": policy.coverage,
        "subject": policy.subject,
        "spaces": list(policy.spaces),
        "name": policy.name,
        "status": policy.status,
        "id": policy.id,
        "source": _source(policy.source),
    }


def _change(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": change.kind.name.lower(), "symbol": change.kind.symbol}
    out.update({k: v for k, v in _fields(change).items() if v is not None and v is not False})
    if change.reason:
        out["reason"] = change.reason
    return out


def _fields(change: Change) -> Mapping[str, Any]:
    source = _source(change.source)
    if isinstance(change, AssignmentChange):
        replaces = change.replaces
        return {"space": change.space, "principal": _principal(change.principal), "role": change.role,
                "old_role": change.before, "source": source,
                "replaces": {"permissions": list(replaces.permissions), "lost": list(replaces.lost)}
                if replaces is not None else None}
    if isinstance(change, GrantChange):
        return {"space": change.space, "principal": _principal(change.principal),
                "permission": change.permission, "permission_id": change.permission_id, "source": source}
    if isinstance(change, RoleChange):
        existing = change.existing
        return {"role_def": _role_def(change.new) if change.new else None,
                "old_role_def": _role_def(existing.definition) if existing else None,
                "role_id": existing.id if existing else None, "source": source}
    return {"app_policy": _app_policy(change.new) if change.new else None,
            "old_app_policy": _app_policy(change.existing) if change.existing else None, "source": source,
            "loosens": change.loosens}


def relocated(plan: Plan, old: str, new: str) -> Plan:
    """``plan`` with the policy files it names moved from the directory ``old`` to ``new`` (in sources and
    in the reasons that quote them): a plan file names its policy files relative to the repository root,
    so the plan made in one folder is the plan recomputed in another. A plan of ``.`` (no prefix to move)
    is returned as it is."""
    if old in ("", ".") or old == new:
        return plan
    before = json.dumps(old.rstrip("/") + "/")[1:-1]
    after = json.dumps(new.rstrip("/") + "/")[1:-1]
    text = re.sub(r'(?<=["(])' + re.escape(before), lambda _: after, dump_plan(plan))
    return load_plan(text)


# ------------------------------------------------------------------------------------------------- load


def read_plan_file(path: Path) -> Plan:
    """The plan saved in ``path``; a file that cannot be read or is not UTF-8 is one ``PlanFileError`` line
    naming the file and how to make it again (``reconciler show`` and ``reconciler apply`` alike)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PlanFileError(f"{path}: cannot read the plan file: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise PlanFileError(f"{path}: the plan file is not UTF-8 (byte 0x{err.object[err.start]:02x} at "
                            f"offset {err.start}); make it again with `reconciler plan --out`") from None
    return load_plan(text)


def load_plan(text: str) -> Plan:
    """Parse a plan file; anything wrong with it is one ``PlanFileError`` line."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise PlanFileError(f"plan file is not valid JSON: {err}") from None
    except RecursionError:
        raise PlanFileError("plan file is nested too deeply to be a plan") from None
    r = _Reader(doc, "plan")
    version = r.get("format_version", int)
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"plan file has format_version {version}; this reconciler reads format_version {FORMAT_VERSION}"
        )
    try:
        return Plan(
            site=r.get("site", str),
            mode=r.get("mode", str),
            policy_digest=r.get("policy_digest", str),
            fingerprint=r.get("fingerprint", str),
            scope=tuple(r.strs("scope")),
            live_assignments=r.get("live_assignments", int),
            findings=tuple(_load_finding(x) for x in r.items("findings")),
            spaces=tuple(_load_space(x) for x in r.items("spaces")),
            changes=tuple(_load_change(x) for x in r.items("changes")),
            held=tuple(_load_change(x) for x in r.items("held")),
            notes=tuple(r.strs("notes")),
            policy_dir=r.get("policy_dir", str) if "policy_dir" in r.doc else "",
        )
    except (KeyError, ValueError) as err:  # an enum value or principal kind this version does not know
        raise PlanFileError(f"plan file: unknown value {err}") from None


class _Reader:
    """Typed access to one JSON object, with the dotted path in every error."""

    def __init__(self, doc: Any, path: str) -> None:
        if not isinstance(doc, dict):
            raise PlanFileError(f"plan file: {path}: expected an object")
        self.doc: dict[str, Any] = doc
        self.path = path

    def get(self, key: str, kind: type[Any]) -> Any:
        if key not in self.doc:
            raise PlanFileError(f"plan file: {self.path}.{key}: missing")
        return self.check(key, self.doc[key], kind)

    def opt(self, key: str, kind: type[Any]) -> Any:
        value = self.doc.get(key)
        return None if value is None else self.check(key, value, kind)

    def check(self, key: str, value: Any, kind: type[Any]) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise PlanFileError(f"plan file: {self.path}.{key}: expected {kind.__name__}")
        return value

    def items(self, key: str) -> list[_Reader]:
        return [_Reader(x, f"{self.path}.{key}[{i}]") for i, x in enumerate(self.get(key, list))]

    def strs(self, key: str) -> list[str]:
        return [self.check(f"{key}[{i}]", x, str) for i, x in enumerate(self.get(key, list))]

    def enum(self, key: str, kind: type[E]) -> E:
        value = self.get(key, str)
        try:
            return kind(value)
        except ValueError:
            raise PlanFileError(f"plan file: {self.path}.{key}: unknown value {value!r}") from None

    def sub(self, key: str) -> _Reader | None:
        value = self.doc.get(key)
        return None if value is None else _Reader(value, f"{self.path}.{key}")


def _load_source(r: _Reader | None) -> Source | None:
    if r is None:
        return None
    return Source(r.get("file", str), r.get("line", int), r.get("column", int))


def _load_principal(r: _Reader | None) -> Principal | None:
    if r is None:
        return None
    parsed = Principal.parse_ref(r.get("ref", str))
    return Principal(parsed.kind, parsed.id, r.opt("label", str), bool(r.opt("unknown", bool)))


def _load_role_def(r: _Reader | None) -> RoleDef | None:
    if r is None:
        return None
    return RoleDef(
        name=r.get("name", str),
        description=r.get("description", str),
        permissions=frozenset(r.strs("permissions")),
        source=_load_source(r.sub("source")),
        system=r.get("system", bool),
    )


def _load_app_policy(r: _Reader | None) -> DataSecurityPolicy | None:
    if r is None:
        return None
    return DataSecurityPolicy(
        rule=r.enum("rule", DsRule),
        effect=r.enum("effect", Effect),
        coverage=r.get("coverage", str),
        subject=r.get("subject", str),
        spaces=tuple(r.strs("spaces")),
        name=r.get("name", str),
        status=r.get("status", str),
        id=r.opt("id", str),
        source=_load_source(r.sub("source")),
    )


def _load_change(r: _Reader) -> Change:
    kind = ChangeKind[r.get("kind", str).upper()]
    try:
        change = _load_family(r, kind)
    except ValueError as err:
        raise PlanFileError(f"plan file: {r.path}: {err}") from None
    if change.kind is not kind:
        raise PlanFileError(f"plan file: {r.path}: its fields make a {change.kind.name.lower()} change, "
                            f"but its kind is {kind.name.lower()}")
    return change


def _load_family(r: _Reader, kind: ChangeKind) -> Change:
    source = _load_source(r.sub("source"))
    reason: str = r.opt("reason", str) or ""
    if kind in ROLE_KINDS:
        old, role_id = _load_role_def(r.sub("old_role_def")), r.opt("role_id", str)
        if old is not None and role_id is None:
            raise PlanFileError(f"plan file: {r.path}.role_id: missing")
        existing = SiteRole(old, role_id) if old is not None and role_id is not None else None
        return RoleChange(_load_role_def(r.sub("role_def")), existing, source, reason)
    if kind in APP_POLICY_KINDS:
        return AppPolicyChange(
            _load_app_policy(r.sub("app_policy")), _load_app_policy(r.sub("old_app_policy")), source, reason,
            loosens=r.opt("loosens", bool) or False,
        )
    space, principal = r.get("space", str), _load_principal(r.sub("principal"))
    if principal is None:
        raise PlanFileError(f"plan file: {r.path}.principal: missing")
    if kind in ASSIGNMENT_KINDS:
        old_role: str | None = r.opt("old_role", str)
        replaces = None
        if kind is ChangeKind.ASSIGN and old_role == CUSTOM_ACCESS:
            replaced = r.sub("replaces")
            old_role, replaces = None, (Replacement.of(replaced.strs("permissions"), replaced.strs("lost"))
                                        if replaced is not None else Replacement(()))
        return AssignmentChange(space, principal, r.opt("role", str), old_role, replaces, source, reason)
    return GrantChange(kind, space, principal, r.get("permission", str), r.opt("permission_id", int), source,
                       reason)


def _load_space(r: _Reader) -> PlannedSpace:
    return PlannedSpace(
        key=r.get("key", str),
        id=r.get("id", str),
        authority=Authority(r.get("authority", str)),
        declared_at=_load_source(r.sub("declared_at")),
        defaults=tuple(r.strs("defaults")),
    )


def _load_finding(r: _Reader) -> SafetyFinding:
    return SafetyFinding(SafetyCheck(r.get("check", str)), r.get("message", str), r.opt("space", str))
