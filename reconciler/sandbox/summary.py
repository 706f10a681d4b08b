"""A readable summary of a sandbox site (``reconciler sandbox show NAME``)."""

from __future__ import annotations

from reconciler.sandbox.admin_rules import RESOURCES
from reconciler.sandbox.state import PrincipalKey, SiteState, Space


def principal_label(state: SiteState, principal: PrincipalKey) -> str:
    ptype, pid = principal
    if ptype == "USER":
        user = state.users.get(pid)
        if user is not None and user.account_type == "app":
            return f"user:{pid} (app: {user.display_name})"
        handle = user.email.partition("@")[0] if user else pid
        return f"user:{handle}" + (" (guest)" if user and user.guest else "")
    if ptype == "GROUP":
        group = state.groups.get(pid)
        return f"group:{group.name if group else pid}"
    return f"class:{pid}"


def summarize(state: SiteState) -> str:
    custom = sum(1 for r in state.roles.values() if r.type == "CUSTOM")
    lines = [
        f"sandbox site '{state.name}'",
        f"  role mode: {state.mode}   cloud id: {state.cloud_id}   org id: {state.org_id}",
        (
            f"  {len(state.spaces)} spaces, {len(state.users)} users "
            f"({sum(1 for u in state.users.values() if u.guest)} guests, "
            f"{sum(1 for u in state.users.values() if u.account_type == 'app')} apps), "
            f"{len(state.groups)} groups, "
            f"{len(state.roles)} roles ({custom} custom), {len(state.org_policies)} org policies"
        ),
        "",
        "roles:",
    ]
    for role in sorted(state.roles.values(), key=lambda r: (r.type != "SYSTEM", r.name)):
        lines.append(f"  {role.name} [{role.type}] {', '.join(role.permissions)}")
    for space in sorted(state.spaces.values(), key=lambda s: s.id):
        lines.extend(["", *_space_lines(state, space)])
    if state.org_policies:
        lines.extend(["", "org policies:"])
        for policy in state.org_policies.values():
            attributes = policy.get("attributes", {})
            rules = attributes.get("rule", {}).items()
            rule = ", ".join(f"{name} {body.get('effect')}" for name, body in rules)
            level = attributes.get("metadata", {}).get("policyCoverageLevel")
            covered = len(policy.get(RESOURCES, []))
            where = "the org" if level == "ORG" else f"{covered} space(s)"
            lines.append(f"  {attributes.get('name')} [{attributes.get('status')}] {rule} in {where}")
    return "\n".join(lines) + "\n"


def _space_lines(state: SiteState, space: Space) -> list[str]:
    lines = [f"{space.key}  {space.name}  (id {space.id}, {space.type}, {space.status})"]
    rows = sorted(
        (principal_label(state, p), state.roles[r].name if r in state.roles else r)
        for p, r in space.assignments.items()
    )
    lines.extend(f"  {label:<40} {role}" for label, role in rows)
    grants: dict[str, list[str]] = {}
    for perm in sorted(space.permissions.values(), key=lambda p: p.id):
        row = f"{perm.perm_id}#{perm.id}" + (f" (with #{perm.producer})" if perm.producer else "")
        grants.setdefault(principal_label(state, perm.principal), []).append(row)
    lines.extend(
        f"  {label:<40} custom access: {', '.join(perms)}" for label, perms in sorted(grants.items())
    )
    if not rows and not grants:
        lines.append("  (no access)")
    return lines
