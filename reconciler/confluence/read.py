"""The whole Cloud read: the live state of the spaces a ``ReadRequest`` names, all or nothing.

DESIGN.md §2, §4. The read is two parts (``backend.SplitRead``), back to back in ``read_live``:

- **start** (``start_read``): the role mode (``read_site.py``); then side by side the roles and the
  permission catalogue (sites with roles), the spaces of the start's keys through ``/spaces?keys=`` in
  batches of 250 (or, when the policy has selectors or wants the unmanaged spaces too, every current space
  once), the v1 group list and the caller; when asked, each known space's assignments and permissions
  (``read_spaces.py``), each key batch's spaces as soon as that batch and the role list arrived.
  ``flows/overlap.py`` runs it while the policy loads, with the keys of the ``spaces/<KEY>.yaml`` names;
- **finish** (``StartedCloudRead.finish``): the site model check, the scope of the loaded policy
  (``ReadRequest.in_scope``: spaces matched only by selectors, ``--space`` checked), the spaces the start
  did not read, group names, accounts and guests. What the start read for a space the request
  does not name is dropped, never planned.

A failure of the start is kept and raised by the finish after the model check; the one exception is a
failure reading a space the request does not manage (the start knew only a file name), which is dropped.
Any other failed read raises, naming the space; a partly read state never leaves this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler.backend import Progress, ReadRequest, ReadStart
from reconciler.confluence.members import fetch_group_members
from reconciler.confluence.read_protocol import Reader
from reconciler.confluence.read_site import (
    KEYS_BATCH,
    ROLE_MODE_404,
    V2,
    RoleModeHiddenError,
    SpaceNotFoundError,
    fetch_all_spaces,
    fetch_catalogue,
    fetch_group_names,
    fetch_key_batch,
    fetch_mode,
    fetch_role_mode,
    fetch_roles,
    fetch_spaces_by_keys,
    settle_mode,
)
from reconciler.confluence.read_spaces import (
    Converter,
    RawSpace,
    ReadStoppedError,
    RoleListChangedError,
    Tally,
    fetch_spaces,
    group_ids,
    name_groups,
    to_live_spaces,
    users_of,
)
from reconciler.confluence.vocabulary_read import AccountBook, fetch_caller
from reconciler.errors import ApiError, UsageError
from reconciler.live_state import Accounts, Caller, LiveRole, LiveSpace, LiveState, SpaceInfo
from reconciler.model import RoleMode

__all__ = ["ROLE_MODE_404", "RoleListChangedError", "RoleModeHiddenError", "SpaceNotFoundError",
           "StartedCloudRead", "fetch_all_spaces", "fetch_mode", "fetch_roles", "read_live", "start_read"]


def read_live(client: Reader, request: ReadRequest, progress: Progress | None = None, *,
              book: AccountBook | None = None) -> LiveState:
    """The live state of the spaces ``request`` names (see ``ReadRequest``): the start and the finish
    back to back, every space read once by the finish.

    Keys the site does not show raise ``SpaceNotFoundError`` unless ``request.missing_ok`` (then they go
    to ``LiveState.missing``).
    """
    return start_read(client, ReadStart.of(request), progress, book=book).finish(request, progress)


def start_read(client: Reader, start: ReadStart, progress: Progress | None = None, *,
               stop: Callable[[], bool] | None = None,
               spaces_begun: Callable[[], None] | None = None,
               book: AccountBook | None = None,
               running: Callable[[StartedCloudRead], None] | None = None) -> StartedCloudRead:
    """The start part of a read (module docstring). Only the role mode's failure raises (and, when
    ``start.model`` is known, a model that does not fit); anything later is kept for the finish.
    ``spaces_begun``: called as the per-space reads start (``backend.SplitRead.read_start``). ``book``: the
    accounts already looked up this run (``AccountBook``), which the finish does not ask for again.
    ``running``: told of the started read before its reads after the role mode begin (``convert_ahead``)."""
    say = progress or _quiet
    say("reading the site's role mode")
    found = fetch_role_mode(client)
    if start.model is not None:
        mode = settle_mode(found, start.model, start.model_source)
    else:  # a 404 is a site without roles if the policy says legacy, else an error: the finish decides
        mode = found or RoleMode.PRE_ROLES
    started = StartedCloudRead(client, start, found, mode, book=book or AccountBook())
    if running is not None:
        running(started)
    try:
        if stop is not None and stop():
            raise ReadStoppedError
        say("listing roles, spaces and groups")
        started.read_site_wide(say, stop, spaces_begun or _nothing)
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
    book: AccountBook = field(default_factory=AccountBook)
    roles: dict[str, LiveRole] = field(default_factory=dict)
    catalogue: frozenset[str] = frozenset()
    group_names: dict[str, str] = field(default_factory=dict)  # group id -> name (the v1 list)
    by_key: dict[str, SpaceInfo] = field(default_factory=dict)  # found through /spaces?keys=
    listed: dict[str, SpaceInfo] = field(default_factory=dict)  # every current space (list_all)
    raw: dict[str, RawSpace] = field(default_factory=dict)  # spaces read, by key
    vanished: dict[str, ApiError] = field(default_factory=dict)  # known spaces that answered 404
    caller: Caller | None = None
    failure: Exception | None = None
    failed_on_a_space: bool = False  # the failure came from one space's read (it names the space)
    _space_failure: ApiError | None = None
    _halt: threading.Event = field(default_factory=threading.Event)  # a space's read failed: stop the rest
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ahead: Converter | None = None  # the loaded policy's labels are known: spaces are converted as read
    _converted: dict[str, LiveSpace] = field(default_factory=dict)  # ... by ``_ahead``, by key

    # ------------------------------------------------------------------------------------- start

    def read_site_wide(self, say: Progress, stop: Callable[[], bool] | None,
                       spaces_begun: Callable[[], None]) -> None:
        """Roles, the permission catalogue, the group names, the caller and the spaces by key (or all of
        them): independent, read side by side. With ``start.spaces`` and keys to read, each batch of
        keys goes on to its spaces' reads as soon as it (and the role list) arrived: the per-space reads
        do not wait for the last batch (``_read_batches_and_spaces``)."""
        client, mode = self.client, self.mode
        roles_read, failed = threading.Event(), threading.Event()

        def halted() -> bool:
            return failed.is_set() or self._halt.is_set() or (stop is not None and stop())

        def roles() -> None:
            try:
                self.roles = fetch_roles(client) if mode.has_roles else {}
            except BaseException:
                failed.set()
                raise
            finally:
                roles_read.set()

        def catalogue() -> None:
            self.catalogue = fetch_catalogue(client) if mode.has_roles else frozenset()

        def groups() -> None:
            self.group_names = fetch_group_names(client)

        def caller() -> None:
            self.caller = fetch_caller(client) if mode is RoleMode.ROLES else None

        def guarded(job: Callable[[], None]) -> None:
            try:
                job()
            except BaseException:
                failed.set()  # the spaces' reads stop: the read fails whatever they find
                raise

        pipelined = self.start.spaces and not (self.start.only or self.start.list_all)
        spaces = (lambda: self._read_batches_and_spaces(say, roles_read, halted, spaces_begun)) if pipelined \
            else self._read_space_list
        client.map_concurrently(guarded, [roles, catalogue, groups, caller, spaces])
        if self._space_failure is not None:
            self.failed_on_a_space = True
            raise self._space_failure
        if self.start.spaces and not pipelined:
            spaces_begun()
            self.read_known_spaces(say, stop)

    def _read_batches_and_spaces(self, say: Progress, roles_read: threading.Event,
                                 halted: Callable[[], bool], spaces_begun: Callable[[], None]) -> None:
        """The start's keys in batches of 250, each batch's spaces read as soon as it arrived. A failed
        space read is kept (``_space_failure``) and stops the others; the finish decides about it."""
        keys = sorted(self.start.keys)
        tally = Tally(len(keys), say)
        phase = [False]

        def batch(start: int) -> None:
            chunk = keys[start : start + KEYS_BATCH]
            infos = fetch_key_batch(self.client, chunk)
            with self._lock:
                self.by_key.update((info.key, info) for info in infos)
                if not phase[0]:
                    phase[0] = True
                    say(f"reading {len(keys)} spaces")
            tally.fewer(len(chunk) - len(infos))
            while not roles_read.wait(0.05):  # the role list names the assignments' roles
                if halted():
                    return
            if halted():
                return
            spaces_begun()
            try:
                fetch_spaces(self.client, infos, self.mode, self._role_names(), say, into=self.raw,
                             vanished=self.vanished, stop=halted, tally=tally, noted=self._saw)
            except ReadStoppedError:
                return
            except ApiError as err:
                with self._lock:
                    self._space_failure = self._space_failure or err
                self._halt.set()

        self.client.map_concurrently(batch, range(0, len(keys), KEYS_BATCH))

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
                         vanished=self.vanished, stop=stop, noted=self._saw)
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
        seen = users_of(raw)
        accounts: Accounts | None = None
        live_spaces: dict[str, LiveSpace] = {}
        ids: dict[str, str] = {}

        def look_up_accounts() -> None:  # a round trip (none when the policy's accounts were looked up
            # ahead and no other was seen): it runs beside the conversion, not after it
            nonlocal accounts
            say("looking up accounts")
            accounts = self.book.accounts(self.client, seen | request.accounts)

        def convert() -> None:
            nonlocal live_spaces, ids
            named = name_groups(self.client, raw, self.group_names)
            ahead = self._ahead
            done = self._converted if ahead is not None and ahead.labels is request.people else {}
            later = to_live_spaces([space for space in raw if space.info.key not in done], named,
                                   request.people)
            live_spaces = {space.info.key: done[space.info.key] if space.info.key in done
                           else later[space.info.key] for space in raw}
            ids = group_ids(request, named, self.group_names)

        self.client.map_concurrently(lambda job: job(), [look_up_accounts, convert])
        assert accounts is not None  # map_concurrently ran both or raised
        return LiveState(
            mode=mode,
            roles=self.roles,
            permissions=self.catalogue,
            spaces=live_spaces,
            group_ids=ids,
            unmanaged=tuple(scope.unmanaged),
            missing=tuple(scope.missing),
            accounts=accounts,
            site_groups=tuple(sorted(set(self.group_names.values()))),
            caller=self.caller if mode is RoleMode.ROLES else None,
            guest_members=_guest_members(self.client, request, self.roles, live_spaces, ids, say=say),
        )

    def _saw(self, space: RawSpace) -> None:
        self.book.saw(space.users())
        convert = self._ahead
        if convert is not None:
            self._convert_ahead(convert, space)

    def convert_ahead(self, labels: Mapping[str, str]) -> None:
        """The loaded policy's labels (account id -> handle), while the spaces are still being read: each
        space read so far, and from now on each one as it arrives, is converted (``LiveSpace``) then, not
        all after the last answer (~40 ms at 1,000 spaces; docs/performance.md). A space holding a group
        the site's group list does not name is left to the finish, which looks that group up. Labels other
        than the finish's request's are not used: the finish converts again."""
        convert = Converter(self.group_names, labels)
        with self._lock:
            self._ahead = convert
        for space in list(self.raw.values()):  # one C call: the readers cannot change it meanwhile
            self._convert_ahead(convert, space)

    def _convert_ahead(self, convert: Converter, space: RawSpace) -> None:
        try:
            if not convert.names_every_group(space):
                return
            live = convert(space)
        except Exception:  # noqa: BLE001 - never a read failure: the finish converts it, and raises its own
            return
        with self._lock:
            self._converted[space.info.key] = live

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


def _nothing() -> None:
    return None
