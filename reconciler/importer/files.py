"""Policy files written from a live site (``reconciler import``). Pure: a snapshot in, file texts out.

The files are sorted and stable (the same site gives the same bytes), carry the schema comment, and
describe the site exactly: every space ``authority: exact`` with its assignments and individual
permissions, so the result validates and plans to zero changes against the site it came from.

- ``people.yaml``: every user seen in an assignment or grant, plus the actor; handles derived from display
  names (lower case, ASCII, ``-`` between words; ``-2``, ``-3`` on collisions in account id order), the
  account id when there is no usable name; ``guest: true`` for guests.
- ``roles.yaml``: the site's custom roles; with proposals, suggested new roles as comments.
- ``spaces/<KEY>.yaml``: one per space; with proposals, each principal on custom access gets a comment
  naming the proposed role. A key that cannot be a file name as it stands (``../x``, ``a/b``, ``.x``)
  goes into ``other-spaces.yaml`` instead: import never writes outside its directory.
- Text from the site is data: keys and values are quoted by ``yamltext.scalar`` (a line break cannot start
  a new line of policy), comments are ``escape.data`` (no line break, no control character).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.backend import SiteUser
from reconciler.drift.migrate import MigrationPlan, ProposalKind, RoleProposal
from reconciler.drift.yamltext import flow, policy_ref, scalar
from reconciler.live_state import LiveSpace, LiveState
from reconciler.model import Platform, Principal, PrincipalKind
from reconciler.permissions import space_admins
from reconciler.report.escape import data
from reconciler.vocabulary import without_apps

__all__ = ["SiteSnapshot", "SiteUser", "derive_handles", "render_import"]

HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # what the policy accepts as a people handle
SCHEMA_TOP = "# yaml-language-server: $schema=../schemas/policy.schema.json"
SCHEMA_SPACES = "# yaml-language-server: $schema=../../schemas/policy.schema.json"
OTHER_SPACES = "other-spaces.yaml"
# A space key that is safe as a file name under spaces/ on every system: never a path, never hidden.
_SAFE_FILE_KEY = re.compile(r"[A-Za-z0-9~_-][A-Za-z0-9~_.-]{0,199}")
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                       *(f"lpt{i}" for i in range(10))})


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """Everything import reads: the live state of the imported spaces, the users seen, the actor."""

    url: str
    live: LiveState
    users: Mapping[str, SiteUser]  # account id -> user (display name may be empty when unknown)
    actor: str  # account id of the account the tool runs as
    platform: Platform = Platform.CLOUD  # Data Center: account ids are usernames, the handles too
    jsonrpc: bool = False  # Data Center: read through JSON-RPC (written as site.jsonrpc: allow)



def derive_handles(users: Iterable[SiteUser]) -> dict[str, str]:
    """Account id -> handle, deterministic: collisions numbered in account id order."""
    taken: dict[str, int] = {}
    handles: dict[str, str] = {}
    for user in sorted(users, key=lambda u: u.account_id):
        base = _slug(user.display_name) or user.account_id
        count = taken.get(base, 0) + 1
        taken[base] = count
        handles[user.account_id] = base if count == 1 else f"{base}-{count}"
    # a numbered handle may collide with a plain one ("ann-2" the person): keep account ids unique
    seen: set[str] = set()
    for account_id in sorted(handles):
        if handles[account_id] in seen:
            handles[account_id] = account_id
        seen.add(handles[account_id])
    return handles


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug if slug and not slug.isdigit() else ""


def render_import(snapshot: SiteSnapshot, *, proposals: MigrationPlan | None = None) -> dict[str, str]:
    """Relative path -> file text for the whole policy directory (apps' users left out)."""
    live = without_apps(snapshot.live)
    seen = sorted({p.id for s in live.spaces.values() for p in [*s.assignments, *s.grants]
                   if p.kind is PrincipalKind.USER and not p.unknown} | {snapshot.actor})
    users = [snapshot.users.get(a, SiteUser(a, "")) for a in seen]
    handles = derive_handles(users)
    if snapshot.platform is Platform.DATACENTER:  # a DC username is already a readable handle
        handles = {a: a if HANDLE.match(a) else h for a, h in handles.items()}
    by_space: dict[str, dict[Principal, RoleProposal]] = {}
    for proposal in proposals.proposals if proposals else ():
        by_space.setdefault(proposal.space, {})[proposal.principal] = proposal
    files = {
        "site.yaml": _site(snapshot, handles[snapshot.actor]),
        "people.yaml": _people(users, handles),
        "roles.yaml": _roles(live, proposals),
    }
    odd: list[str] = []
    for key, space in sorted(live.spaces.items()):
        text = _space(space, snapshot.url, handles, by_space.get(key, {}))
        if _SAFE_FILE_KEY.fullmatch(key) and key.lower() not in _RESERVED:
            files[f"spaces/{key}.yaml"] = text
        else:  # a key that cannot be a file name as it stands ("../x", "a/b", ".hidden"): no file of its own
            odd.append(text.split("\nspaces:\n", 1)[1])
    if odd:
        files[OTHER_SPACES] = "\n".join([SCHEMA_TOP, "# Spaces whose keys cannot be file names.",
                                         "spaces:", *(part.rstrip("\n") for part in odd)]) + "\n"
    return files


def _site(snapshot: SiteSnapshot, actor: str) -> str:
    lines = [
        SCHEMA_TOP,
        (f"# Imported from {data(snapshot.url)} by `reconciler import`: every space exact, as the site "
        "holds it."),
        "version: 1",
        "site:",
        f"  url: {scalar(snapshot.url)}",
        *(["  platform: datacenter"] if snapshot.platform is Platform.DATACENTER
          else ["  model: auto", "  custom_role_limit: 10"]),
        *(["  jsonrpc: allow"] if snapshot.jsonrpc else []),
        f"  actor: {scalar(actor)}",
        "  default_authority: exact",
    ]
    without_admin = [k for k, s in sorted(snapshot.live.spaces.items()) if not _has_admin(s, snapshot)]
    if without_admin:
        lines += [
            "safety:",
            "  # lowered by import: no admin besides the actor on the site in "
            + data(", ".join(without_admin)),
            "  min_admins_per_space: 0",
        ]
    return "\n".join(lines) + "\n"


def _has_admin(space: LiveSpace, snapshot: SiteSnapshot) -> bool:
    """An admin besides the actor, as validate and plan count them (``permissions.space_admins``)."""
    roles = {name: role.permissions for name, role in snapshot.live.roles.items()}
    admins = space_admins(space.assignments, space.grants, roles.get)
    return bool(admins - {Principal(PrincipalKind.USER, snapshot.actor)})


def _people(users: list[SiteUser], handles: Mapping[str, str]) -> str:
    lines = [SCHEMA_TOP, "# Users seen in the imported spaces; handles derived from display names.",
             "people:"]
    for user in sorted(users, key=lambda u: handles[u.account_id]):
        handle, account = scalar(handles[user.account_id]), scalar(user.account_id)
        named = user.display_name and _slug(user.display_name) != handle
        comment = f"  # {data(user.display_name)}" if named else ""
        if user.guest:
            lines.append(f"  {handle}: {{account_id: {account}, guest: true}}{comment}")
        else:
            lines.append(f"  {handle}: {account}{comment}")
    if len(lines) == 3:
        lines[-1] = "people: {}"
    return "\n".join(lines) + "\n"


def _roles(live: LiveState, proposals: MigrationPlan | None) -> str:
    custom = sorted((r for r in live.roles.values() if not r.system), key=lambda r: r.name)
    lines = [SCHEMA_TOP, "# The site's custom roles (Admin, Manager, Collaborator and Viewer are built in)."]
    lines.append("roles:" if custom else "roles: {}")
    for role in custom:
        lines += [f"  {scalar(role.name)}:", f"    description: {scalar(role.description)}",
                  f"    permissions: {flow(role.permissions)}"]
    if proposals and proposals.new_roles:
        lines += ["", "# Proposed custom roles for principals on custom access (uncomment to adopt; the",
                  "# spaces' files name who would get them). See docs/drift.md."]
        for new in proposals.new_roles:
            lines += [f"#  {scalar(new.name)}:", f"#    description: {scalar(new.description)}",
                      f"#    permissions: {flow(new.permissions)}"]
    if proposals and proposals.left_out:
        lines.append(f"# Not proposed, the custom role limit ({proposals.custom_role_limit}) is reached:")
        lines += [f"#   {flow(perms)}" for perms in proposals.left_out]
    return "\n".join(lines) + "\n"


def _space(space: LiveSpace, url: str, handles: Mapping[str, str],
           proposals: Mapping[Principal, RoleProposal]) -> str:
    info = space.info
    lines = [SCHEMA_SPACES, f"# {data(info.name)} ({data(info.type)}), imported from {data(url)}", "spaces:",
             f"  {scalar(info.key)}:", "    authority: exact"]
    skipped = sorted(p.ref for p in [*space.assignments, *space.grants] if p.unknown)
    assign = sorted((policy_ref(p, handles), role) for p, role in space.assignments.items() if not p.unknown)
    if assign:
        lines.append("    assign:")
        lines += [f"      {scalar(ref)}: {scalar(role)}" for ref, role in assign]
    grants = sorted((policy_ref(p, handles), p, perms) for p, perms in space.grants.items() if not p.unknown)
    if grants:
        lines.append("    grants:")
        for ref, principal, perms in grants:
            proposal = proposals.get(principal)
            note = f"  # {data(_proposal_note(proposal))}" if proposal else ""
            lines.append(f"      {scalar(ref)}: {flow(perms)}{note}")
    lines += [f"    # not imported: {data(ref)} cannot be named on the site (deleted?)" for ref in skipped]
    return "\n".join(lines) + "\n"


def _proposal_note(proposal: RoleProposal) -> str:
    if proposal.kind is ProposalKind.EXACT:
        return f"proposed role: {proposal.role} (exact match)"
    if proposal.kind is ProposalKind.NEW_ROLE:
        return f"proposed role: {proposal.role} (new custom role, see roles.yaml)"
    parts = [f"gains {', '.join(proposal.gained)}" if proposal.gained else "",
             f"loses {', '.join(proposal.lost)}" if proposal.lost else ""]
    return f"proposed role: {proposal.role} (nearest; {'; '.join(p for p in parts if p)})"
