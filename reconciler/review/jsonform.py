"""A review as JSON and back: stable and sorted, so a nightly commit's diff is the change in access.

The JSON keeps the principal level (each space's grants, each group's members once), the size of the
site's assignments plus memberships; :meth:`Review.people_in` expands it again after loading. The HTML
report embeds the same document.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.errors import UsageError
from reconciler.review.model import CUSTOM, Grant, GroupInfo, PersonDrift, PersonInfo, Review, SpaceReview

FORMAT = "reconciler-access-review"
VERSION = 1


def to_json(review: Review) -> dict[str, Any]:
    roles = _roles(review)
    return {
        "format": FORMAT,
        "version": VERSION,
        "site": review.site,
        "names": review.names,
        "notes": list(review.notes),
        "people": {ref: _person(p) for ref, p in sorted(review.people.items())},
        "roles": {name: sorted(perms) for name, perms in sorted(roles.items())},
        "groups": {name: {"members": list(g.members), **({"missing": True} if g.missing else {})}
                   for name, g in sorted(review.groups.items())},
        "spaces": [
            {
                "key": s.key,
                "name": s.name,
                "authority": s.authority,
                "grants": [_grant(g, roles) for g in s.grants],
                "drift": [{"person": d.ref, "live": sorted(d.live), "policy": sorted(d.policy)}
                          for d in s.drift],
            }
            for s in review.spaces
        ],
    }


def dumps(review: Review) -> str:
    return json.dumps(to_json(review), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _person(p: PersonInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"guest": p.guest}
    if p.handle:
        out["handle"] = p.handle
    if p.account_id:
        out["account_id"] = p.account_id
    if p.name:
        out["name"] = p.name
    return out


def _roles(review: Review) -> dict[str, frozenset[str]]:
    """Role name -> permissions, for every role whose grants all carry the same permissions: such grants
    leave ``permissions`` out (the role table says it once), which keeps a large review small."""
    seen: dict[str, set[frozenset[str]]] = {}
    for space in review.spaces:
        for grant in space.grants:
            if not grant.access.startswith(CUSTOM):
                seen.setdefault(grant.access, set()).add(grant.permissions)
    return {name: next(iter(sets)) for name, sets in seen.items() if len(sets) == 1}


def _grant(g: Grant, roles: dict[str, frozenset[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"principal": g.principal, "access": g.access}
    if roles.get(g.access) != g.permissions:
        out["permissions"] = sorted(g.permissions)
    if g.declared:
        out["declared"] = g.declared
    if g.policy:
        out["policy"] = g.policy
    return out


def from_json(data: Any, where: str) -> Review:
    """A saved review (``where`` names the file in errors); a wrong document is a one-line ``UsageError``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{where}: not an access review (expected \"format\": \"{FORMAT}\"); "
                         "save one with: reconciler access --format json --out FILE")
    if data.get("version") != VERSION:
        raise UsageError(f"{where}: access review version {data.get('version')!r} is not supported "
                         f"(this reconciler reads version {VERSION})")
    try:
        roles = {name: frozenset(perms) for name, perms in data.get("roles", {}).items()}
        people = {ref: PersonInfo(ref, p.get("handle"), p.get("account_id"), p.get("name"),
                                  bool(p.get("guest")))
                  for ref, p in data["people"].items()}
        groups = {name: GroupInfo(name, tuple(g["members"]), bool(g.get("missing")))
                  for name, g in data["groups"].items()}
        spaces = tuple(
            SpaceReview(
                s["key"], s.get("name", ""), s.get("authority", ""),
                tuple(_grant_from(g, roles) for g in s["grants"]),
                tuple(PersonDrift(d["person"], frozenset(d["live"]), frozenset(d["policy"]))
                      for d in s.get("drift", ())),
            )
            for s in data["spaces"]
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{where}: a malformed access review ({type(exc).__name__}: {exc}); "
                         "take the review again") from None
    return Review(str(data.get("site", "")), bool(data.get("names")), people, groups, spaces,
                  tuple(data.get("notes", ())))


def _grant_from(g: dict[str, Any], roles: dict[str, frozenset[str]]) -> Grant:
    kind, _, who = str(g["principal"]).partition(":")
    perms = frozenset(g["permissions"]) if "permissions" in g else roles[g["access"]]
    return Grant(kind, who, g["access"], perms, g.get("declared"), g.get("policy"))
