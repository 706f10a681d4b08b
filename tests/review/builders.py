"""Group members for the pure review tests (desired and live states come from tests/drift/builders.py)."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.live_state import GroupMembers, Member


def members(groups: Mapping[str, tuple[str, ...]], *, guests: tuple[str, ...] = (),
            missing: tuple[str, ...] = ()) -> dict[str, GroupMembers]:
    """group name -> account ids (``acc-<handle>`` for the builders' people)."""
    out = {name: GroupMembers(name, f"gid-{name}",
                              tuple(sorted(Member(a, f"Name of {a}", a in guests) for a in accounts)))
           for name, accounts in groups.items()}
    out.update({name: GroupMembers(name, name, (), missing=True) for name in missing})
    return out
