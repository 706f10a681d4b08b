"""Classify where the live site differs from the policy (``reconciler drift``). Pure: no IO.

The differences are the plan's own changes (``reconciler.plan.diff.build_plan``, including the changes it
holds back for protected principals and the actor), read the other way round: a change the plan would make
is a difference the site has. So drift follows the plan's authority rules exactly:

- ``exact`` space: access the policy does not list is drift (it would be removed);
- ``additive`` space: extra access is **not** drift (the policy does not claim to know all of it), only
  what the policy sets to ``none``, and what it asks for but the site lacks or holds differently.

Each change becomes one item of a :class:`DriftKind`; legacy grants are folded into one item per space
and principal. Policy spaces the site does not show are items too; unmanaged spaces are only counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date

from reconciler.drift.acknowledge import acknowledge
from reconciler.drift.findings import DriftItem, DriftKind, DriftReport, Remedy
from reconciler.drift.migrate import CustomAccess, MigrationPlan, propose_roles
from reconciler.drift.remedy import RemedyContext
from reconciler.drift.yamltext import flow, scalar
from reconciler.live_state import LiveState
from reconciler.model import DesiredState, EffectiveSpace, Principal, PrincipalKind, RoleDef
from reconciler.plan.changes import AssignmentChange, Change, GrantChange, RoleChange
from reconciler.plan.data_security import PolicyDrift, data_security_drift
from reconciler.plan.diff import build_plan
from reconciler.plan.structdiff import Field, describe
from reconciler.policy.resolve import effective_spaces
from reconciler.vocabulary import is_app

SITE = ""  # the "space" of site-wide items (custom roles, app access policies)
ROLE_FIELDS = (Field("permissions"), Field("description", values=False))  # what a custom role is


def detect_drift(
    desired: DesiredState, live: LiveState, *, today: date, scope: Sequence[str] = ()
) -> DriftReport:
    """Every difference between ``desired`` and ``live``, classified and matched against ``drift.ignore``
    (``scope``: only these spaces were read, ``drift --space``)."""
    in_view = dataclasses.replace(
        desired, spaces={k: s for k, s in desired.spaces.items()
                         if k not in live.missing and (not scope or k in scope)}
    )
    effective = effective_spaces(in_view, [space.info for space in live.spaces.values()])
    plan = build_plan(in_view, live, scope=scope)
    ctx = _Context(desired, live, effective)
    items = [
        *_from_changes(plan.changes, ctx),
        *(_held(item, change) for change in plan.held for item in _from_changes([change], ctx)),
        *(_app_item(entry, ctx) for entry in data_security_drift(in_view, live)),
        *(_missing(key, ctx) for key in sorted(live.missing)),
    ]
    acknowledged, unused = acknowledge(items, desired.drift_ignore, today)
    return DriftReport(
        site=desired.site.url,
        mode=live.mode.value,
        today=today,
        policy_dir=desired.policy_dir,
        managed=tuple(sorted(effective)),
        items=tuple(sorted(acknowledged, key=lambda i: i.sort_key)),
        unmanaged=tuple(sorted(live.unmanaged)),
        unused_acknowledgements=unused,
        migration=migration_plan(desired, live, effective),
    )


def custom_access(live: LiveState, keys: Iterable[str]) -> list[CustomAccess]:
    """Principals on individual permissions (no role) in these spaces, on a roles or transition site."""
    if not live.mode.has_roles:
        return []
    found = []
    for key in keys:
        space = live.spaces[key]
        for principal, grants in space.grants.items():
            if principal not in space.assignments and grants and not is_app(principal, live):
                found.append(CustomAccess(key, principal, frozenset(grants)))
    return sorted(found)


def migration_plan(
    desired: DesiredState, live: LiveState, effective: Mapping[str, EffectiveSpace]
) -> MigrationPlan | None:
    found = custom_access(live, sorted(k for k in effective if k in live.spaces))
    if not found:
        return None
    roles = {name: role.permissions for name, role in live.roles.items()}
    return propose_roles(found, roles, custom_role_limit=desired.site.custom_role_limit)


class _Context:
    def __init__(self, desired: DesiredState, live: LiveState, effective: Mapping[str, EffectiveSpace]):
        self.desired = desired
        self.live = live
        self.effective = effective
        self.remedy = RemedyContext.of(desired, effective.values())
        self.people = frozenset(p.account_id for p in desired.people.values())

    def unknown_live(self, principal: Principal) -> str | None:
        """Why a principal seen on the site is unknown to the policy, or None."""
        if principal.unknown:
            return f"{principal.kind.value} {principal.id} cannot be resolved on the site (deleted?)"
        if principal.kind is PrincipalKind.USER and principal.id not in self.people:
            return f"account {principal.id} is not in the policy's people"
        return None

    def unknown_desired(self, principal: Principal) -> str | None:
        """Why a principal the policy names is not on the site, or None."""
        if principal.kind is PrincipalKind.GROUP and principal.id not in self.live.group_ids:
            return f"group '{principal.id}' is not on the site (deleted, or renamed)"
        return None


def _held(item: DriftItem, change: Change) -> DriftItem:
    """A difference the plan withholds (protected principal, the actor): apply will not revert it."""
    revert = Remedy(f"{change.reason}: apply will not revert this; change it on the site by hand")
    return dataclasses.replace(item, revert=revert)


def _from_changes(changes: Iterable[Change], ctx: _Context) -> Iterator[DriftItem]:
    grants: dict[tuple[str, Principal], list[GrantChange]] = {}
    for change in changes:
        if isinstance(change, AssignmentChange):
            yield _assignment_item(change, ctx)
        elif isinstance(change, GrantChange):
            grants.setdefault((change.space, change.principal), []).append(change)
        elif isinstance(change, RoleChange):
            yield _role_item(change, ctx)
    for (key, principal), group in sorted(grants.items(), key=lambda kv: (kv[0][0], kv[0][1].ref)):
        yield _grant_item(key, principal, group, ctx)


def _assignment_item(change: AssignmentChange, ctx: _Context) -> DriftItem:
    key, principal, r = change.space, change.principal, ctx.remedy
    src = change.source
    match change.role, change.old_role:
        case None, str() as live_role:  # unassign
            unknown = ctx.unknown_live(principal)
            if unknown and principal.unknown:
                return _item(DriftKind.UNKNOWN_PRINCIPAL, change, unknown, None, r.apply())
            kind = DriftKind.UNKNOWN_PRINCIPAL if unknown else DriftKind.ADDED
            detail = unknown or (
                "set to none in the policy, but assigned on the site" if src is not None
                else "assigned on the site, not in the policy (space is exact)"
            )
            return _item(kind, change, detail, r.set_line(key, principal, live_role, src), r.apply())
        case str() as role, None:  # assign
            unknown = ctx.unknown_desired(principal)
            kind = DriftKind.UNKNOWN_PRINCIPAL if unknown else DriftKind.REMOVED
            detail = unknown or "in the policy, not assigned on the site"
            held = ctx.live.spaces[key].grants.get(principal)
            if held and not unknown:
                detail += f" (it holds individual permissions instead: {flow(held)})"
            return _item(kind, change, detail, r.delete_line(key, principal, role, src), r.apply())
        case str() as role, str() as live_role:  # reassign
            detail = f"the policy says {role}, the site has {live_role}"
            adopt = r.set_line(key, principal, live_role, src)
            return _item(DriftKind.ROLE_CHANGED, change, detail, adopt, r.apply())
    raise ValueError("an assignment change needs a role or an old role")  # refused when it is built


def _item(
    kind: DriftKind, change: AssignmentChange, detail: str, adopt: Remedy | None, revert: Remedy
) -> DriftItem:
    return DriftItem(kind, change.space, change.principal, change.role, change.before, detail, adopt,
                     revert, source=change.source)


def _grant_item(key: str, principal: Principal, changes: list[GrantChange], ctx: _Context) -> DriftItem:
    space = ctx.effective[key]
    want = space.grants.get(principal)
    desired = frozenset(want.permissions) if want is not None else frozenset()
    live = frozenset(ctx.live.spaces[key].grants.get(principal, {}))
    source = want.source if want is not None else None
    desired_text = None if want is None else flow(desired) if desired else "none"
    live_text = flow(live) if live else None
    r = ctx.remedy
    unknown = ctx.unknown_live(principal) if live and not desired else ctx.unknown_desired(principal)
    if unknown:
        kind, detail = DriftKind.UNKNOWN_PRINCIPAL, unknown
        value = live_text or "none"
        adopt = None if principal.unknown else r.set_line(key, principal, value, source, "grants")
    elif not live:
        kind, detail = DriftKind.REMOVED, "individual permissions in the policy, not on the site"
        adopt = r.delete_line(key, principal, desired_text or "none", source, "grants")
    elif not desired:
        on_roles = ctx.live.mode.has_roles and principal not in ctx.live.spaces[key].assignments
        kind = DriftKind.CUSTOM_ACCESS if on_roles else DriftKind.ADDED
        detail = ("on individual permissions (custom access), not in the policy" if on_roles
                  else "individual permissions on the site, not in the policy")
        if want is not None:
            detail = "set to none in the policy, but held on the site"
        adopt = r.set_line(key, principal, flow(live), source, "grants")
    else:
        gained = sorted(live - desired)
        lost = sorted(desired - live)
        kind = DriftKind.ROLE_CHANGED
        detail = "permissions differ:" + (f" site adds {', '.join(gained)}" if gained else "") + (
            f"{';' if gained else ''} site lacks {', '.join(lost)}" if lost else "")
        adopt = r.set_line(key, principal, flow(live), source, "grants")
    return DriftItem(kind, key, principal, desired_text, live_text, detail, adopt, r.apply(), source=source)


def _role_item(change: RoleChange, ctx: _Context) -> DriftItem:
    name, src = change.name, change.source
    file = src.file if src else f"{ctx.desired.policy_dir}/roles.yaml"
    new, old = change.new, change.existing.definition if change.existing else None
    if old is None:
        detail = f"custom role '{name}' is in the policy, not on the site"
        adopt = Remedy(f"delete role '{name}'" + (f" at line {src.line}" if src else ""), file=file,
                       where="roles")
    elif new is not None:
        detail = f"custom role '{name}': {role_drift(old, new)}"
        lines = [f"permissions: {flow(old.permissions)}"] if old.permissions != new.permissions else []
        if old.description != new.description:
            lines.append(f"description: {scalar(old.description)}")
        adopt = Remedy(f"change role '{name}'" + (f" at line {src.line}" if src else "") + " to",
                       file=file, where=f"roles.{name}", yaml="\n".join(lines))
    else:
        detail = f"custom role '{name}' is set to none in the policy, but exists on the site"
        adopt = Remedy("declare it instead of none" + (f" at line {src.line}" if src else ""), file=file,
                       where=f"roles.{name}",
                       yaml=f"permissions: {flow(old.permissions)}")
    return DriftItem(
        DriftKind.ROLE_DEFINITION, SITE, None,
        flow(new.permissions) if new else None,
        flow(old.permissions) if old else None,
        detail, adopt, ctx.remedy.apply(), source=src, subject=name,
    )


def role_drift(site: RoleDef, policy: RoleDef) -> str:
    """How a custom role on the site differs from the policy's, or ``""``:
    ``the site adds delete/page, lacks create/blogpost; description differs``."""
    return describe({"permissions": site.permissions, "description": site.description},
                    {"permissions": policy.permissions, "description": policy.description}, ROLE_FIELDS)


def _app_item(entry: PolicyDrift, ctx: _Context) -> DriftItem:
    src = entry.source
    ds = ctx.desired.data_security
    file = src.file if src else ds.source.file if ds else f"{ctx.desired.policy_dir}/data-security.yaml"
    adopt = Remedy("edit data_security" + (f" at line {src.line}" if src else ""), file=file,
                   where="data_security")
    return DriftItem(
        DriftKind.APP_POLICY, SITE, None, ", ".join(entry.desired.spaces) if entry.desired else None,
        ", ".join(entry.live.spaces) if entry.live else None, _app_detail(entry),
        adopt if entry.counts else None, ctx.remedy.apply() if entry.counts else None, source=src,
        subject=entry.name, informational=not entry.counts,
    )


def _app_detail(entry: PolicyDrift) -> str:
    return f"{entry.kind}: {entry.detail}"  # kinds: missing, changed, unexpected, unmanaged


def _missing(key: str, ctx: _Context) -> DriftItem:
    space = ctx.desired.spaces.get(key)
    src = space.source if space else None
    adopt = Remedy(
        f"delete the spaces.{key} entry" + (f" (line {src.line})" if src else ""),
        file=src.file if src else ctx.remedy.space_file(key), where=f"spaces.{key}",
    )
    revert = Remedy(f"restore space {key}, or let the account the tool runs as view it "
                    "(space settings, permissions)")
    return DriftItem(
        DriftKind.SPACE_MISSING, key, None, None, None,
        "the site does not show this space: deleted, or hidden from the account the tool runs as",
        adopt, revert, source=src,
    )
