"""Which spaces a read covers: the policy's keys, the spaces a ``defaults`` selector matches, or ``--space``.

Policy keys are looked up through ``GET /wiki/api/v2/spaces?keys=`` in batches of 250; when a selector
exists (or the caller wants the unmanaged spaces too), every current space is listed once and selected
locally with ``reconciler.policy.resolve.managed_keys``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reconciler.confluence.reader import PAGE, V2, Reader, parse
from reconciler.confluence.wire import SpaceWire
from reconciler.errors import UsageError
from reconciler.model import DesiredState, SpaceInfo
from reconciler.policy.resolve import managed_keys

KEYS_BATCH = 250  # /spaces?keys= accepts at most 250 keys


@dataclass(frozen=True, slots=True)
class Scope:
    managed: list[SpaceInfo]
    unmanaged: list[SpaceInfo] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # policy keys the site does not show


def fetch_scope(client: Reader, desired: DesiredState, spaces: Sequence[str], *, list_all: bool) -> Scope:
    if spaces:
        return _requested_scope(client, desired, sorted(set(spaces)))
    explicit = sorted(desired.spaces)
    if not list_all:
        found = {info.key: info for info in fetch_spaces_by_keys(client, explicit)}
        return Scope([found[k] for k in explicit if k in found], [], [k for k in explicit if k not in found])
    listed = {info.key: info for info in fetch_all_spaces(client)}
    unlisted = [key for key in explicit if key not in listed]  # archived, or hidden from the caller
    listed.update((info.key, info) for info in fetch_spaces_by_keys(client, unlisted))
    managed = _managed_keys(desired, listed.values())
    return Scope(
        managed=[listed[k] for k in sorted(managed) if k in listed],
        unmanaged=[listed[k] for k in sorted(listed) if k not in managed],
        missing=[k for k in explicit if k not in listed],
    )


def _requested_scope(client: Reader, desired: DesiredState, wanted: list[str]) -> Scope:
    found = {info.key: info for info in fetch_spaces_by_keys(client, wanted)}
    unknown = [k for k in wanted if k not in found and k not in desired.spaces]
    if unknown:
        raise UsageError(
            f"--space {unknown[0]}: no such space on the site, and the policy does not declare it"
        )
    managed = _managed_keys(desired, found.values())
    unmanaged = [k for k in wanted if k in found and k not in managed]
    if unmanaged:
        raise UsageError(f"--space {unmanaged[0]}: the policy does not manage this space "
                         "(no spaces: entry and no defaults selector matches it)")
    return Scope([found[k] for k in wanted if k in found], [], [k for k in wanted if k not in found])


def _managed_keys(desired: DesiredState, infos: Iterable[SpaceInfo]) -> set[str]:
    """Policy keys plus the listed spaces a ``defaults`` selector matches."""
    infos = list(infos)
    return managed_keys(desired, infos) | {i.key for i in infos if i.key in desired.spaces}


def fetch_spaces_by_keys(client: Reader, keys: Sequence[str]) -> list[SpaceInfo]:
    """The spaces with these keys that the site shows, through ``keys=`` in batches of 250, read side by
    side (40 batches at 10,000 spaces: one after another they cost seconds before any space is read)."""
    path = f"{V2}/spaces"

    def batch(start: int) -> list[SpaceInfo]:
        params = {"keys": ",".join(keys[start : start + KEYS_BATCH]), "limit": PAGE}
        return [parse(SpaceWire, item, path, None).to_model() for item in client.paginate(path, params)]

    return [info for found in client.map_concurrently(batch, range(0, len(keys), KEYS_BATCH))
            for info in found]


def fetch_all_spaces(client: Reader) -> list[SpaceInfo]:
    """Every current space the caller can see."""
    path = f"{V2}/spaces"
    items = client.paginate(path, {"status": "current", "limit": PAGE})
    return [parse(SpaceWire, item, path, None).to_model() for item in items]
