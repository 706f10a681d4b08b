"""The checks of ``reconciler doctor``: every assumption the tool makes about a Cloud site, checked read-only,
one finding each (docs/commands/doctor.md).

A finding has a text ``line`` (which may name the account the tool runs as) and ``facts`` for the JSON report,
which hold only shapes (field paths and JSON types), counts, statuses and permission ids: never a secret, a
name, an account id, a group or a space.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.confluence import app_policy_wire
from reconciler.confluence.admin import AdminApi
from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.read import ROLE_MODE_404
from reconciler.confluence.wire import (
    GroupWire,
    RoleAssignmentWire,
    RoleWire,
    SpacePermissionWire,
    SpaceWire,
    UserWire,
    WireError,
    WireModel,
)
from reconciler.errors import ApiError, AuthError, NotFoundError
from reconciler.model import UnreadPolicy
from reconciler.vocabulary import APP_ACCOUNT_TYPE, DOCUMENTED, KNOWN, OBSERVED_LIVE, companions

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
V1, V2 = "/wiki/rest/api", "/wiki/api/v2"
PAGE = 25  # items asked for in each sampled read
SAMPLE_SPACES = 5  # spaces whose assignments and permission rows are sampled
USERS_BATCH = 100  # [spec] v1 user/bulk: "Currently this API returns a maximum of 100 results"


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok | warn | fail | skip
    line: str  # for the terminal (may name the account the tool runs as)
    facts: Mapping[str, Any] = field(default_factory=dict)  # for JSON: shapes and counts only


@dataclass(frozen=True)
class Expected:
    """One read the tool makes: where, which fields it reads (path -> JSON type), and its wire model."""

    name: str
    fields: Mapping[str, str]
    model: type[WireModel]


READS: dict[str, Expected] = {
    "spaces": Expected("spaces", {"id": "string", "key": "string", "name": "string", "type": "string",
                                  "status": "string"}, SpaceWire),
    "roles": Expected("roles", {"id": "string", "name": "string", "type": "string", "description": "string",
                                "spacePermissions[]": "string"}, RoleWire),
    "role assignments": Expected("role assignments", {"principal.principalType": "string",
                                                      "principal.principalId": "string", "roleId": "string"},
                                 RoleAssignmentWire),
    "permissions": Expected("permissions", {"id": "string", "principal.type": "string",
                                            "principal.id": "string", "operation.key": "string",
                                            "operation.targetType": "string"}, SpacePermissionWire),
    "groups": Expected("groups", {"id": "string", "name": "string"}, GroupWire),
    "users": Expected("users", {"accountId": "string", "accountType": "string", "displayName": "string",
                                "isGuest": "boolean"}, UserWire),
}


# ------------------------------------------------------------------------------------------------ shapes


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def shape(value: Any, prefix: str = "") -> dict[str, set[str]]:
    """Field path -> JSON types seen (``a.b``, ``list[]`` for array items); keys only, never values."""
    found: dict[str, set[str]] = {}

    def walk(node: Any, path: str) -> None:
        if path:
            found.setdefault(path, set()).add(_type(node))
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for child in node:
                walk(child, f"{path}[]")

    walk(value, prefix)
    return found


def _differences(expected: Expected, items: Sequence[Any]) -> list[str]:
    """What the tool reads that the items lack or carry with another type."""
    problems: list[str] = []
    for path, wanted in expected.fields.items():
        per_item = [shape(item).get(path, set()) for item in items]
        if any(not types for types in per_item):
            problems.append(f"{path} ({wanted}) missing")
        elif any(types - {wanted} for types in per_item):
            seen = sorted(set().union(*per_item) - {wanted})
            problems.append(f"{path} is {'/'.join(seen)}, not {wanted}")
    return problems


def _parse_error(expected: Expected, items: Sequence[Any]) -> str | None:
    for item in items:
        try:
            expected.model.parse(item)
        except WireError as exc:
            return str(exc)
    return None


def shape_finding(expected: Expected, body: Any, call: str) -> Finding:
    """Whether one page of a read has every field the tool reads, with the type it expects."""
    check = f"shape: {expected.name}"
    items = body.get("results") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return Finding(check, FAIL, f"{call} has no 'results' list: the tool cannot read it",
                       {"fields": _fields(body)})
    facts: dict[str, Any] = {"items": len(items), "fields": _fields(body)}
    if not items:
        return Finding(check, OK, f"{call}: an empty page, nothing to compare", facts)
    problems = _differences(expected, items)
    parse = _parse_error(expected, items)
    facts["differences"] = problems
    facts["parses"] = parse is None
    if problems or parse:
        detail = "; ".join(problems) or parse
        return Finding(check, FAIL, f"{call}: the answer differs from what the tool reads: {detail}", facts)
    wanted = ", ".join(expected.fields)
    line = f"{call}: {len(items)} item(s) with every field the tool reads ({wanted})"
    return Finding(check, OK, line, facts)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _fields(body: Any) -> dict[str, str]:
    return {path: "/".join(sorted(types)) for path, types in sorted(shape(body).items())}


# ------------------------------------------------------------------------------------------------- checks


@dataclass
class Doctor:
    """Runs the checks in order over one site client; later checks use what earlier ones learnt."""

    client: ConfluenceClient
    findings: list[Finding] = field(default_factory=list)
    account: str | None = None
    mode: str | None = None
    space_ids: list[str] = field(default_factory=list)
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (space id, permission row)

    def run(self, extra: Iterable[Callable[[], Finding]] = ()) -> list[Finding]:
        self._add(self.credentials)
        if self.findings[-1].status == FAIL:
            refused = Finding("the rest", SKIP, "not checked: the site refused the credentials")
            return [*self.findings, refused]
        for check in (self.role_mode, self.catalogue, self.spaces, self.roles, self.assignments,
                      self.permissions, self.groups, self.users, self.vocabulary, *extra, self.rate_limits):
            self._add(check)
        return self.findings

    def _add(self, check: Callable[[], Finding]) -> None:
        try:
            self.findings.append(check())
        except ApiError as exc:
            name = check.__name__.replace("_", " ")
            self.findings.append(Finding(name, FAIL, f"{name}: {exc}", {"status": exc.status}))

    def credentials(self) -> Finding:
        try:
            me = self.client.get_json(f"{V1}/user/current", {"expand": "operations"})
        except AuthError as exc:
            return Finding("credentials", FAIL, f"credentials: the site refused them: {exc}",
                           {"status": exc.status})
        me = me if isinstance(me, dict) else {}
        account = me.get("accountId")
        self.account = account if isinstance(account, str) and account else None
        ops = {(o.get("operation"), o.get("targetType")) for o in me.get("operations") or []
               if isinstance(o, dict)}
        admin = ("administer", "application") in ops
        kind = str(me.get("accountType") or "unknown")
        facts = {"account_type": kind, "product_admin": admin, "fields": _fields(me)}
        if self.account is None:
            return Finding("credentials", FAIL, "credentials: GET /user/current names no accountId", facts)
        name = terminal_text(str(me.get("displayName") or me.get("publicName") or "an unnamed account"))
        role = "a product admin" if admin else "not a product admin (may grant only what it holds)"
        line = f"credentials: the tool runs as {name} (account type {kind}), {role}"
        return Finding("credentials", OK, line, facts)

    def role_mode(self) -> Finding:
        try:
            data = self.client.get_json(f"{V2}/space-role-mode")
        except NotFoundError:
            return Finding("role mode", FAIL, f"role mode: {ROLE_MODE_404}", {"status": 404})
        mode = data.get("mode") if isinstance(data, dict) else None
        self.mode = str(mode) if mode else "PRE_ROLES"
        known = self.mode in ("PRE_ROLES", "ROLES_TRANSITION", "ROLES")
        status, note = (OK, "") if known else (FAIL, ": not a mode the tool knows")
        return Finding("role mode", status, f"role mode: {self.mode}{note}", {"mode": self.mode})

    def _has_roles(self) -> bool:
        return self.mode in ("ROLES_TRANSITION", "ROLES")

    def catalogue(self) -> Finding:
        if not self._has_roles():
            return Finding("catalogue", SKIP, "catalogue: not read (the site has no roles)")
        items = self.client.paginate(f"{V2}/space-permissions", {"limit": 250})
        ids = {str(item.get("id")) for item in items}
        new = sorted(ids - KNOWN)
        missing = sorted(DOCUMENTED - ids)
        facts = {"ids": len(ids), "documented": len(DOCUMENTED & ids), "seen_live_elsewhere":
                 len(OBSERVED_LIVE & ids), "new": new, "documented_missing": missing}
        line = (f"catalogue: {len(ids)} permission ids: {len(DOCUMENTED & ids)} of {len(DOCUMENTED)} "
                f"documented, {len(OBSERVED_LIVE & ids)} seen on other live sites, {len(new)} new"
                + (f" ({', '.join(new)}; roles may use them)" if new else ""))
        if missing:
            return Finding("catalogue", WARN, f"{line}; missing documented ids: {', '.join(missing)}", facts)
        return Finding("catalogue", OK, line, facts)

    def spaces(self) -> Finding:
        body = self.client.get_json(f"{V2}/spaces", {"limit": PAGE, "status": "current"})
        items = body.get("results") if isinstance(body, dict) else None
        self.space_ids = [str(s["id"]) for s in items or [] if isinstance(s, dict) and "id" in s
                          and s.get("type") != "personal"][:SAMPLE_SPACES]
        return shape_finding(READS["spaces"], body, "GET /spaces")

    def roles(self) -> Finding:
        if not self._has_roles():
            return Finding("shape: roles", SKIP, "roles: not read (the site has no roles)")
        return shape_finding(READS["roles"], self.client.get_json(f"{V2}/space-roles", {"limit": PAGE}),
                             "GET /space-roles")

    def assignments(self) -> Finding:
        if not self._has_roles():
            line = "role assignments: not read (the site has no roles)"
            return Finding("shape: role assignments", SKIP, line)
        return self._first_filled("role assignments", lambda sid: f"{V2}/spaces/{sid}/role-assignments")

    def permissions(self) -> Finding:
        finding = self._first_filled("permissions", lambda sid: f"{V2}/spaces/{sid}/permissions")
        for space_id in self.space_ids:
            path = f"{V2}/spaces/{space_id}/permissions"
            self.rows += [(space_id, row) for row in self.client.paginate(path, {"limit": 250})
                          if isinstance(row, dict)]
        return finding

    def _first_filled(self, name: str, path: Callable[[str], str]) -> Finding:
        """The shape of the first sampled space's page that has items (an empty page shows nothing)."""
        body: Any = {"results": []}
        for space_id in self.space_ids:
            body = self.client.get_json(path(space_id), {"limit": PAGE})
            if isinstance(body, dict) and body.get("results"):
                break
        return shape_finding(READS[name], body, "GET " + path("{id}").removeprefix(V2))

    def groups(self) -> Finding:
        return shape_finding(READS["groups"], self.client.get_json(f"{V1}/group", {"limit": PAGE}),
                             "GET /rest/api/group")

    def users(self) -> Finding:
        if self.account is None:
            return Finding("shape: users", SKIP, "users: not read (no account to look up)")
        body = self.client.get_json(f"{V1}/user/bulk", {"accountId": self.account})
        return shape_finding(READS["users"], body, "GET /rest/api/user/bulk")

    def vocabulary(self) -> Finding:
        """App accounts, companion rows, duplicates and access classes in the sampled spaces' rows."""
        held: dict[tuple[str, str, str], Counter[str]] = {}
        for space_id, row in self.rows:
            principal, operation = _object(row.get("principal")), _object(row.get("operation"))
            key = (space_id, str(principal.get("type")), str(principal.get("id")))
            held.setdefault(key, Counter())[f"{operation.get('key')}/{operation.get('targetType')}"] += 1
        users = sorted({who for (_, kind, who) in held if kind == "user"})
        types = self._account_types(users)
        apps = {who for who in users if types.get(who) == APP_ACCOUNT_TYPE}
        app_rows = sum(sum(c.values()) for (_, _, who), c in held.items() if who in apps)
        companion_rows = sum(len(companions(c)) for (_, _, who), c in held.items() if who not in apps)
        duplicates = sum(n - 1 for c in held.values() for n in c.values() if n > 1)
        classes = sum(1 for (_, kind, _) in held if kind == "access-class")
        facts = {"spaces_sampled": len(self.space_ids), "rows": len(self.rows), "app_accounts": len(apps),
                 "app_rows": app_rows, "companion_rows": companion_rows, "duplicate_rows": duplicates,
                 "access_class_principals": classes}
        line = (f"live vocabulary in {len(self.space_ids)} sampled space(s), {len(self.rows)} rows: "
                f"{len(apps)} app account(s) holding {app_rows} row(s), {companion_rows} companion row(s), "
                f"{duplicates} duplicate row(s), {classes} access-class principal(s)")
        return Finding("live vocabulary", OK, line, facts)

    def _account_types(self, account_ids: Sequence[str]) -> dict[str, str]:
        types: dict[str, str] = {}
        for start in range(0, len(account_ids), USERS_BATCH):
            batch = account_ids[start:start + USERS_BATCH]
            body = self.client.get_json(f"{V1}/user/bulk", {"accountId": ",".join(batch)})
            for item in body.get("results") or [] if isinstance(body, dict) else []:
                if isinstance(item, dict) and isinstance(item.get("accountId"), str):
                    types[item["accountId"]] = str(item.get("accountType") or "")
        return types

    def rate_limits(self) -> Finding:
        answers, seen = self.client.rate_limit_headers
        facts = {"answers": answers, "headers": dict(seen)}
        if not seen:
            return Finding("rate limits", OK, f"rate limits: no rate-limit headers in {answers} answers "
                           "(the site reported no budget; the tool still honours Retry-After)", facts)
        names = ", ".join(f"{name} ({count})" for name, count in seen.items())
        return Finding("rate limits", OK, f"rate limits: seen in {answers} answers: {names}", facts)


# ------------------------------------------------------------------------------------------------ output

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """Text from the site, safe for a terminal line: control characters shown escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def failed(findings: Iterable[Finding]) -> int:
    return sum(1 for f in findings if f.status == FAIL)


def render_text(site: str, findings: Sequence[Finding]) -> str:
    lines = [f"reconciler doctor: {terminal_text(site)}"]
    lines += [f"  {f.status:<5} {f.line}" for f in findings]
    counts = Counter(f.status for f in findings)
    summary = ", ".join(f"{counts[s]} {s}" for s in (OK, WARN, FAIL, SKIP) if counts[s])
    verdict = "all ok" if not counts[FAIL] and not counts[WARN] else "differences found"
    lines.append(f"doctor: {verdict} ({summary})")
    return "\n".join(lines) + "\n"


def report(findings: Sequence[Finding]) -> dict[str, Any]:
    """The JSON report: statuses, shapes and counts, fit to attach to a bug (no site, names or ids)."""
    return {
        "format": 1,
        "ok": not failed(findings),
        "checks": [{"check": f.check, "status": f.status, "facts": dict(f.facts)} for f in findings],
    }


# ------------------------------------------------------------------------------------------ data security


def data_security_finding(api: AdminApi) -> Finding:
    """The key paths of the org's data security policies against what ``app_policy_wire`` reads, and how
    many of them the tool understands (shapes and counts only)."""
    items = list(api.list_policies())
    unread = [item for item in items if isinstance(app_policy_wire.read_policy(item), UnreadPolicy)]
    paths = app_policy_wire.key_path_report(items)
    facts = {"policies": len(items), "understood": len(items) - len(unread), "not_understood": len(unread),
             **paths}
    if not items:
        return Finding("data security", OK, "data security: the org has no data security policies to compare "
                       "with the paths the tool reads", facts)
    line = (f"data security: {len(items)} polic(ies), {len(items) - len(unread)} understood; key paths the "
            f"tool reads: {len(paths['confirmed'])} confirmed, {len(paths['not_seen'])} not seen"
            + (f" ({', '.join(paths['not_seen'])})" if paths["not_seen"] else ""))
    if unread:
        return Finding("data security", FAIL, f"{line}; {len(unread)} not understood: the plan leaves their "
                       "rules out (report the key paths with --format json)", facts)
    return Finding("data security", OK, line, facts)
