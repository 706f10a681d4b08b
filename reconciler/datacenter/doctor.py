"""``reconciler doctor`` on a Data Center site: every assumption the DC backend makes, checked read-only, one
finding each (docs/datacenter.md, docs/commands/doctor.md). Findings are those of the Cloud doctor: a
terminal line and facts (shapes, counts, statuses) for the JSON report, never a secret or a name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.confluence.client import ConfluenceClient
from reconciler.confluence.doctor import FAIL, OK, SKIP, WARN, Finding, shape, terminal_text
from reconciler.datacenter import wire
from reconciler.datacenter.checks import RouteMissingError
from reconciler.errors import ApiError, AuthError, NotFoundError

SAMPLE_SPACES = 5
PERMISSION_FIELDS = ("operation.operationKey", "operation.targetType", "subject.type")


@dataclass
class DcDoctor:
    """The DC checks in order over one DC client (``allow_jsonrpc``: the policy's ``site.jsonrpc``)."""

    client: ConfluenceClient
    allow_jsonrpc: bool = False
    findings: list[Finding] = field(default_factory=list)
    rest: bool = True
    keys: list[str] = field(default_factory=list)

    def run(self) -> list[Finding]:
        self._add(self.credentials)
        if self.findings[-1].status == FAIL:
            refused = Finding("the rest", SKIP, "not checked: the tool would not run as this")
            return [*self.findings, refused]
        for check in (self.version, self.spaces, self.paging, self.permissions, self.anonymous,
                      self.jsonrpc, self.rate_limits):
            self._add(check)
        return self.findings

    def _add(self, check: Callable[[], Finding]) -> None:
        name = check.__name__.replace("_", " ")
        try:
            self.findings.append(check())
        except ApiError as exc:
            self.findings.append(Finding(name, FAIL, f"{name}: {exc}", {"status": exc.status}))

    def credentials(self) -> Finding:
        try:
            me = self.client.get_json(wire.CURRENT_USER)
        except AuthError as exc:
            return Finding("credentials", FAIL, f"credentials: the site refused them: {exc}",
                           {"status": exc.status})
        if wire.is_anonymous(me):
            return Finding("credentials", FAIL, "credentials: the site runs the tool as anonymous: a wrong "
                           "or "
                           "expired CONFLUENCE_PAT is not refused by Data Center (CONFSERVER-98199)",
                           {"anonymous": True})
        name = terminal_text(str(me.get("displayName") or me.get("username") or "an unnamed user"))
        return Finding("credentials", OK, f"credentials: the tool runs as {name}", {"anonymous": False})

    def version(self) -> Finding:
        info = self.client.get_json(wire.SERVER_INFO)
        version = str(info.get("version", "")) if isinstance(info, dict) else ""
        self.rest = wire.version_tuple(version) >= wire.REST_SINCE
        facts = {"version": version, "rest_space_permissions": self.rest}
        if self.rest:
            return Finding("version", OK, f"version: Confluence Data Center {version}: REST space "
                           "permissions "
                           "(9.1+)", facts)
        status = WARN if self.allow_jsonrpc else FAIL
        how = "JSON-RPC is allowed (site.jsonrpc: allow)" if self.allow_jsonrpc else \
            "set site.jsonrpc: allow to use the legacy JSON-RPC service"
        return Finding("version", status, f"version: Confluence Data Center {version}: no REST space "
                       f"permissions before 9.1; {how}", facts)

    def spaces(self) -> Finding:
        page = self.client.get_json(wire.SPACES, {"limit": 25})
        items = page.get("results") if isinstance(page, dict) else None
        if not isinstance(items, list):
            return Finding("shape: spaces", FAIL, "GET /rest/api/space has no 'results' list")
        self.keys = [str(s["key"]) for s in items if isinstance(s, dict) and s.get("key")
                     and s.get("type") != "personal"][:SAMPLE_SPACES]
        missing = sorted({f for f in ("key", "name", "type") for s in items if f not in s})
        facts = {"items": len(items), "missing": missing, "limit": page.get("limit")}
        if missing:
            line = f"GET /rest/api/space: items without {', '.join(missing)}"
            return Finding("shape: spaces", FAIL, line, facts)
        line = f"GET /rest/api/space: {len(items)} item(s) with key, name, type"
        return Finding("shape: spaces", OK, line, facts)

    def paging(self) -> Finding:
        """CS-95312: a start past the end still answers a record (the reader stops on nothing new)."""
        page = self.client.get_json(wire.SPACES, {"start": 1_000_000, "limit": 1})
        items = page.get("results") if isinstance(page, dict) else []
        quirk = bool(items)
        line = ("paging: a start past the end answers a record (CONFSERVER-95312); the reader stops on a "
                "page with nothing new" if quirk else "paging: a start past the end answers no records")
        return Finding("paging", OK, line, {"records_past_the_end": len(items or [])})

    def permissions(self) -> Finding:
        if not self.rest:
            return Finding("shape: permissions", SKIP, "permissions (REST): not read (no REST before 9.1)")
        rows: list[Any] = []
        for key in self.keys:
            try:
                body = self.client.get_json(wire.permissions_path(key), space=key)
            except RouteMissingError as exc:
                return Finding("shape: permissions", FAIL, f"permissions: {exc}", {"status": exc.status})
            rows += body if isinstance(body, list) else []
        kinds = Counter(str(r.get("subject", {}).get("type")) for r in rows if isinstance(r, dict))
        unknown = sorted({op for op in (wire.op_of(r.get("operation")) for r in rows if isinstance(r, dict))
                          if op and op not in wire.OPERATIONS})
        paths = set().union(*(shape(r).keys() for r in rows)) if rows else set()
        missing = [f for f in PERMISSION_FIELDS if rows and f not in paths]
        facts = {"spaces_sampled": len(self.keys), "rows": len(rows), "subjects": dict(kinds),
                 "unknown_operations": unknown, "missing": missing,
                 "users_by_key": "subject.userKey" in paths, "groups_by_name": "subject.name" in paths}
        line = (f"permissions: {len(rows)} row(s) in {len(self.keys)} sampled space(s): "
                + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        if missing or unknown:
            extra = "; ".join([*(f"{f} missing" for f in missing),
                               *(f"unknown operation {o}" for o in unknown)])
            return Finding("shape: permissions", FAIL, f"{line}; {extra}", facts)
        if kinds.get("anonymous"):
            line += " (GET all lists anonymous: the reader's second call per space could go)"
        return Finding("shape: permissions", OK, line, facts)

    def anonymous(self) -> Finding:
        if not self.rest or not self.keys:
            return Finding("shape: anonymous", SKIP, "anonymous permissions: not read")
        try:
            body = self.client.get_json(wire.anonymous_path(self.keys[0]), space=self.keys[0])
        except NotFoundError as exc:
            return Finding("shape: anonymous", WARN, f"anonymous permissions: {exc} (read as none)",
                           {"status": exc.status})
        form = "nested" if isinstance(body, dict) else "flat" if isinstance(body, list) else "other"
        status = FAIL if form == "other" else OK
        line = f"anonymous permissions: the {form} shape"
        return Finding("shape: anonymous", status, line, {"shape": form})

    def jsonrpc(self) -> Finding:
        if self.rest or not self.allow_jsonrpc or not self.keys:
            return Finding("json-rpc", SKIP, "JSON-RPC: not used (REST is there, or it is not allowed)")
        body = self.client.post_json(wire.RPC, wire.rpc_call("getSpacePermissionSets", [self.keys[0]], 1),
                                     headers=wire.RPC_HEADERS, read=True, space=self.keys[0])
        if isinstance(body, dict) and body.get("error") is not None:
            return Finding("json-rpc", FAIL, "JSON-RPC: getSpacePermissionSets answered an error",
                           {"error": True})
        sets = len(body.get("result") or []) if isinstance(body, dict) else 0
        return Finding("json-rpc", OK, f"JSON-RPC: getSpacePermissionSets answers {sets} permission sets",
                       {"sets": sets})

    def rate_limits(self) -> Finding:
        answers, seen = self.client.rate_limit_headers
        facts = {"answers": answers, "headers": dict(seen)}
        if not seen:
            return Finding("rate limits", OK, f"rate limits: no X-RateLimit headers in {answers} answers "
                           "(rate limiting off, or this account is exempt)", facts)
        names = ", ".join(seen)
        return Finding("rate limits", WARN, f"rate limits: the limiter applies to this account ({names}); "
                       "exempt it under Confluence administration > Rate limiting", facts)
