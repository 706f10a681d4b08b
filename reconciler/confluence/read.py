"""The whole Cloud read: the live state of the spaces a ``ReadRequest`` names, all or nothing.

DESIGN.md §2, §4. The read is two parts (``backend.SplitRead``), back to back in ``read_live``:

- **start** (``start_read``): the role mode (``read_site.py``); then side by side the roles and the
  permission catalogue (sites with roles), the spaces of the start's keys through ``/spaces?keys=`` in
  batches of 250 (or, when the policy has selectors or wants the unmanaged spaces too, every current space
  once), and the v1 group list; then, when asked, each known space's assignments and permissions
  (``read_spaces.py``). ``flows/overlap.py`` runs it while the policy loads, with the keys of the
  ``spaces/<KEY>.yaml`` file names;
- **finish** (``StartedCloudRead.finish``): the site model check, the scope of the loaded policy
  (``ReadRequest.in_scope``: spaces matched only by selectors, ``--space`` checked), the spaces the start
  did not read, group names, accounts, the caller and guests. What the start read for a space the request
  does not name is dropped, never planned.

A failure of the start is kept and raised by the finish after the model check; the one exception is a
failure reading a space the request does not manage (the start knew only a file name), which is dropped.
Any other failed read raises, naming the space; a partly read state never leaves this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

from reconciler.backend import Progress, ReadRequest, ReadStart
from reconciler.confluence.members import fetch_group_members
from reconciler.confluence.read_protocol import Reader
from reconciler.confluence.read_site import (
    ROLE_MODE_404,
    V2,
    RoleModeHiddenError,
    SpaceNotFoundError,
    fetch_all_spaces,
    fetch_catalogue,
    fetch_group_names,
    fetch_mode,
    fetch_role_mode,
    fetch_roles,
    fetch_spaces_by_keys,
    settle_mode,
)
from reconciler.confluence.read_spaces import (
    RawSpace,
    ReadStoppedError,
    RoleListChangedError,
    fetch_spaces,
    group_ids,
    name_groups,
    to_live_space,
)
from reconciler.confluence.vocabulary_read import fetch_accounts, fetch_caller
from reconciler.errors import ApiError, UsageError
from reconciler.live_state import LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import PrincipalKind, RoleMode

__all__ = ["ROLE_MODE_404", "RoleListChangedError", "RoleModeHiddenError", "SpaceNotFoundError",
           "StartedCloudRead", "fetch_all_spaces", "fetch_mode", "fetch_roles", "read_live", "start_read"]


def read_live(client: Reader, request: ReadRequest, progress: Progress | None = None) -> LiveState:
    """The live state of the spaces ``request`` names (see ``ReadRequest``): the start and the finish
    back to back, every space read once by the finish.

    Keys the site does not show raise ``SpaceNotFoundError`` unless ``request.missing_ok`` (then they go
    to ``LiveState.missing``).
    """
    return start_read(client, ReadStart.of(request), progress).finish(request, progress)


def start_read(client: Reader, start: ReadStart, progress: Progress | None = None, *,
               stop: Callable[[], bool] | None = None) -> StartedCloudRead:
    """The start part of a read (module docstring). Only the role mode's failure raises (and, when
    ``start.model`` is known, a model that does not fit); anything later is kept for the finish."""
    say = progress or _quiet
    say("reading the site's role mode")
    found = fetch_role_mode(client)
    if start.model is not None:
        mode = settle_mode(found, start.model, start.model_source)
    else:  # a 404 is a site without roles if the policy says legacy, else an error: the finish decides
        mode = found or RoleMode.PRE_ROLES
    started = StartedCloudRead(client, start, found, mode)
    try:
        if stop is not None and stop():
            raise ReadStoppedError
        say("listing roles, spaces and groups")
        started.read_site_wide()
        if start.spaces:
            started.read_known_spaces(say, stop)
    except Exception as err:  # noqa: BLE001 - kept whole and raised by finish (all or nothing)
        started.failure = err
    return started


@dataclass(slots=True)
class StartedCloudRead:
    """What the start part read; ``finish`` makes it the live state of a request."""

    client: Reader
    start: ReadStart
    found_mode: RoleMode | None  # None: the role mode answered 404
    mode: RoleMode
    roles: dict[str, LiveRole] = field(default_factory=dict)
    catalogue: frozenset[str] = frozenset()
    group_names: dict[str, str] = field(default_factory=dict)  # group id -> name (the v1 list)
    by_key: dict[str, SpaceInfo] = field(default_factory=dict)  # found through /spaces?keys=
    listed: dict[str, SpaceInfo] = field(default_factory=dict)  # every current space (list_all)
    raw: dict[str, RawSpace] = field(default_factory=dict)  # spaces read, by key
    vanished: dict[str, ApiError] = field(default_factory=dict)  # known spaces that answered 404
    failure: Exception | None = None
    failed_on_a_space: bool = False  # the failure came from one space's read (it names the space)

    # ------------------------------------------------------------------------------------- start

    def read_site_wide(self) -> None:
        """Roles, the permission catalogue, the spaces by key (or all of them) and the group names:
        independent, read side by side."""
        client, mode = self.client, self.mode
        jobs: list[Callable[[], object]] = [
            lambda: fetch_roles(client) if mode.has_roles else {},
            lambda: fetch_catalogue(client) if mode.has_roles else frozenset(),
            self._read_space_list,
            lambda: fetch_group_names(client),
        ]
        roles, catalogue, _, groups = client.map_concurrently(lambda job: job(), jobs)
        self.roles = cast(dict[str, LiveRole], roles)
        self.catalogue = cast(frozenset[str], catalogue)
        self.group_names = cast(dict[str, str], groups)

    def _read_space_list(self) -> None:
        start = self.start
        if start.only:  # the spaces already listed (``ReadStart.listed``) and the others through keys=
            wanted = sorted(set(start.only))
            given = {info.key: info for info in start.listed if info.key in set(wanted)}
            wanted = [key for key in wanted if key not in given]
            self.by_key = {**given, **{info.key: info for info in fetch_spaces_by_keys(self.client, wanted)}}
            return
        if start.list_all:
            self.listed = {info.key: info for info in fetch_all_spaces(self.client)}
            wanted = [key for key in sorted(start.keys) if key not in self.listed]  # archived, or hidden
        else:
            wanted = sorted(start.keys)
        self.by_key = {info.key: info for info in fetch_spaces_by_keys(self.client, wanted)}

    def read_known_spaces(self, say: Progress, stop: Callable[[], bool] | None) -> None:
        """The assignments of each space of the start's keys that the site shows."""
        infos = [info for key in sorted(self.start.keys)
                 if (info := self.by_key.get(key) or self.listed.get(key)) is not None]
        try:
            fetch_spaces(self.client, infos, self.mode, self._role_names(), say, into=self.raw,
                         vanished=self.vanished, stop=stop)
        except ApiError:
            self.failed_on_a_space = True
            raise

    # ------------------------------------------------------------------------------------ finish

    def finish(self, request: ReadRequest, progress: Progress | None = None) -> LiveState:
        """The live state of ``request`` (``backend.StartedRead``)."""
        if not self.start.fits(request):
            raise ValueError("the read was started for another --space or another way of listing spaces")
        say = progress or _quiet
        mode = settle_mode(self.found_mode, request.model, request.model_source)
        failure = self.failure
        if failure is not None and not self.failed_on_a_space:
            raise failure
        scope = self._scope(request)
        managed = {info.key for info in scope.managed}
        if failure is not None and (not isinstance(failure, ApiError) or failure.space in managed
                                    or not failure.space):
            raise failure
        if scope.missing and not request.missing_ok:
            raise SpaceNotFoundError("GET", f"{V2}/spaces", 404, space=", ".join(scope.missing))
        gone = [self.vanished[key] for key in sorted(managed) if key in self.vanished]
        if gone:
            raise SpaceNotFoundError(gone[0].method, gone[0].path, 404, space=gone[0].space)
        todo = [info for info in scope.managed if info.key not in self.raw]
        fresh: dict[str, RawSpace] = {}
        if todo or not self.start.spaces:
            fetched = fetch_spaces(self.client, todo, mode, self._role_names(), say)
            fresh = {space.info.key: space for space in fetched}
        raw = [self.raw.get(info.key) or fresh[info.key] for info in scope.managed]
        return self._live_state(request, mode, scope, raw, say)

    def _scope(self, request: ReadRequest) -> _Scope:
        """The spaces ``request`` covers, from what the start listed (keys it did not know read now)."""
        if request.only:
            return self._requested_scope(request, sorted(set(request.only)))
        explicit = sorted(request.keys)
        unknown = [key for key in explicit if key not in self.start.keys]  # none when the start knew them
        found = {key: info for key, info in self.by_key.items() if key in request.keys}
        if not self.start.list_all:
            found.update((info.key, info) for info in fetch_spaces_by_keys(self.client, unknown))
            return _Scope([found[k] for k in explicit if k in found], [],
                          [k for k in explicit if k not in found])
        listed = {**self.listed, **found}
        extra = [key for key in unknown if key not in listed]
        listed.update((info.key, info) for info in fetch_spaces_by_keys(self.client, extra))
        managed = {info.key for info in listed.values() if request.in_scope(info)}
        return _Scope(
            managed=[listed[k] for k in sorted(managed) if k in listed],
            unmanaged=[listed[k] for k in sorted(listed) if k not in managed],
            missing=[k for k in explicit if k not in listed],
        )

    def _requested_scope(self, request: ReadRequest, wanted: list[str]) -> _Scope:
        found = self.by_key
        unknown = [k for k in wanted if k not in found and k not in request.keys]
        if unknown:
            raise UsageError(
                f"--space {unknown[0]}: no such space on the site, and the policy does not declare it"
            )
        unmanaged = [k for k in wanted if k in found and not request.in_scope(found[k])]
        if unmanaged:
            info = found[unmanaged[0]]
            why = (f"it is {info.status} and only a defaults selector matches it; the whole plan leaves it "
                   "alone" if info.status != "current" and request.selected(info)
                   else "no spaces: entry and no defaults selector matches it")
            raise UsageError(f"--space {unmanaged[0]}: the policy does not manage this space ({why}); "
                             "nothing was planned")
        return _Scope([found[k] for k in wanted if k in found], [], [k for k in wanted if k not in found])

    def _live_state(self, request: ReadRequest, mode: RoleMode, scope: _Scope, raw: list[RawSpace],
                    say: Progress) -> LiveState:
        named = name_groups(self.client, raw, self.group_names)
        live_spaces = {s.info.key: to_live_space(s, named, request.people) for s in raw}
        ids = group_ids(request, named, self.group_names)
        say("looking up accounts")
        seen = {ident for space in raw
                for (kind, ident) in [*space.assignments, *space.grants, *space.companions]
                if kind is PrincipalKind.USER}
        return LiveState(
            mode=mode,
            roles=self.roles,
            permissions=self.catalogue,
            spaces=live_spaces,
            group_ids=ids,
            unmanaged=tuple(scope.unmanaged),
            missing=tuple(scope.missing),
            accounts=fetch_accounts(self.client, seen | request.accounts),
            site_groups=tuple(sorted(set(self.group_names.values()))),
            caller=fetch_caller(self.client) if mode is RoleMode.ROLES else None,
            guest_members=_guest_members(self.client, request, self.roles, live_spaces, ids, say=say),
        )

    def _role_names(self) -> dict[str, str]:
        return {role.id: role.name for role in self.roles.values()}


@dataclass(frozen=True, slots=True)
class _Scope:
    managed: list[SpaceInfo]
    unmanaged: list[SpaceInfo] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # requested keys the site does not show


def _guest_members(client: Reader, request: ReadRequest, roles: Mapping[str, LiveRole],
                   spaces: Mapping[str, LiveSpace], group_ids: Mapping[str, str], *,
                   say: Progress) -> dict[str, tuple[str, ...]] | None:
    """The guests in each group that holds, or that the policy gives, a role above ``guests.max_role`` in
    a managed space (``guest_limit``); None when not asked. All or nothing, like every read."""
    if request.guests is None:
        return None
    held = [(p, role) for space in spaces.values() for p, role in space.assignments.items()]
    names = request.guests.groups_to_read({n: r.permissions for n, r in roles.items()}, held)
    ids = {name: group_ids[name] for name in sorted(names) if name in group_ids}
    if not ids:
        return {}
    say("reading the members of groups that give more than guests.max_role")
    policy_guests = request.guests.guests
    found = fetch_group_members(client, ids)
    guests = {name: tuple(m.account_id for m in group.members if m.guest or m.account_id in policy_guests)
              for name, group in found.items()}
    return {name: ids for name, ids in guests.items() if ids}


def _quiet(_message: str) -> None:
    return None
