"""What belongs to the live state beyond its shape (``reconciler.live_state.LiveState``): its fingerprint.

A plan records the fingerprint of the live state it was made from; apply re-reads the plan's scope and
refuses the plan when the fingerprint differs (the site changed in between).
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Collection
from typing import Any

from reconciler.live_state import LiveState


def fingerprint(live: LiveState, *, scope: Collection[str] = ()) -> str:
    """``sha256:<hex>`` of a canonical, sorted serialisation of the live state in scope.

    Covers the role mode, the roles, the permission catalogue, each space in scope (id, assignments,
    grants with their ids) and the group ids: the Confluence site's state, which apply re-reads. The org's
    app access policies (Admin API) are left out: apply checks each app policy change against the org
    itself. Display-only data (people handles) is left out too, so the value is stable across runs.
    Linear in the size of the state: ``scope`` (any collection) is made a set once.
    """
    wanted = set(scope)
    keys = sorted(k for k in live.spaces if not wanted or k in wanted)
    state = {
        "mode": live.mode.value,
        "roles": sorted(
            [r.name, r.id, r.type, r.description, sorted(r.permissions)] for r in live.roles.values()
        ),
        "permissions": sorted(live.permissions),
        "spaces": [_space_fact(live, k) for k in keys],
        "group_ids": sorted(live.group_ids.items()),
        "missing": sorted(live.missing),
    }
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


_REF = operator.attrgetter("ref")


def _space_fact(live: LiveState, key: str) -> list[Any]:
    """Pairs and triples as tuples, made in C (``zip``, ``attrgetter``): ``json.dumps`` writes a tuple as it
    writes a list, and tuples sort as lists do, so the bytes are those of lists."""
    space = live.spaces[key]
    roles = space.assignments
    return [
        key,
        space.info.id,
        sorted(zip(map(_REF, roles), roles.values(), strict=True)),
        sorted((p.ref, perm, pid) for p, perms in space.grants.items() for perm, pid in perms.items()),
    ]
