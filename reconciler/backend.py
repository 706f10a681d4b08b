"""The backend contract: what a site backend must read and write for the engine (docs/architecture.md).

The engine (plan, safety, apply, drift, import) works on the value objects of ``reconciler.model``; a backend
turns a site's API into them and back. Confluence Cloud (``reconciler.confluence.cloud.CloudBackend``) is
the first implementation; Data Center will be the second. ``reconciler.flows.connect.Connection`` picks and
opens the backend; nothing else knows which one runs.

A backend must:

- **read** (``read``): the live state of the spaces a ``ReadRequest`` names, all or nothing: any failed
  read raises an ``ApiError`` naming the space and the call; a partly read state never leaves the backend;
- **read the role list** (``read_roles``), for import **name users** (``read_users``) and say which
  account it runs as (``current_account``), for the access review **list group members**
  (``read_group_members``);
- **write** one change per call with ids already resolved (``writer``: ``create_role`` ...
  ``delete_permission``), never repeating a write whose outcome is unknown (apply re-reads instead);
- **run per-space work** side by side within its own concurrency bound (``map_spaces``).

A backend may also read in two parts (``SplitRead``: ``read_start``, then ``finish``), so that the start
runs while the rest of the policy loads.

Org-wide data security policies are optional (``data_security`` returns None when the backend has none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, runtime_checkable

from reconciler.guest_limit import GuestRead
from reconciler.live_state import GroupMembers, LiveRole, LiveState, SpaceInfo
from reconciler.model import (
    DataSecurityPolicy,
    DsRule,
    OrgPolicies,
    Principal,
    RoleDef,
    SiteModel,
    Source,
    SpaceSelector,
)

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """What a read covers: which spaces, against which site model, and which principals to name.

    Spaces: those named in ``keys`` plus every space one of ``selectors`` matches; with ``only`` just those
    (each must exist on the site or be in ``keys``, and be in scope). ``missing_ok``: keys the site does
    not show go to ``LiveState.missing`` instead of raising. ``unmanaged``: every space is listed, so
    ``LiveState.unmanaged`` is complete.
    """

    keys: frozenset[str] = frozenset()
    selectors: tuple[SpaceSelector, ...] = ()
    only: tuple[str, ...] = ()
    missing_ok: bool = False
    unmanaged: bool = False
    model: SiteModel = SiteModel.AUTO
    model_source: Source | None = None  # where ``model`` was written, for a wrong-model message
    people: Mapping[str, str] = field(default_factory=dict)  # account id -> handle (a user's label)
    groups: frozenset[str] = frozenset()  # group names whose ids writes need, seen live or not
    accounts: frozenset[str] = frozenset()  # account ids to look up besides those seen (the policy's)
    guests: GuestRead | None = None  # read the guests of groups given more than guests.max_role
    # the spaces this run already listed (``SpaceLister.list_spaces``): a read takes their key, id, type and
    # status from here instead of asking the site again
    listed: tuple[SpaceInfo, ...] = ()

    def in_scope(self, info: SpaceInfo) -> bool:
        """A space the policy names (whatever its status), or a current space a selector matches: a
        selector never manages an archived space (the whole plan lists current spaces only, so ``--space``
        must not plan one either)."""
        return info.key in self.keys or (info.status == "current" and self.selected(info))

    def selected(self, info: SpaceInfo) -> bool:
        return any(s.matches(info.key, info.type) for s in self.selectors)


@dataclass(frozen=True, slots=True)
class ReadStart:
    """The part of a read that can start before the whole policy is loaded: what ``site.yaml`` and the names
    of ``spaces/<KEY>.yaml`` say (``SplitRead``; the whole read is a start and a finish back to back).

    ``keys``: the space keys known so far, read by key (and, with ``spaces``, each one's assignments);
    ``only``: ``--space``; ``list_all``: the policy has selectors (or wants the unmanaged spaces), so the
    read lists every current space. ``model``: the site model when known, checked at once; None leaves the
    check to the finish.
    """

    keys: frozenset[str] = frozenset()
    only: tuple[str, ...] = ()
    list_all: bool = False
    model: SiteModel | None = None
    model_source: Source | None = None
    spaces: bool = True
    listed: tuple[SpaceInfo, ...] = ()  # ``ReadRequest.listed``: spaces this run already listed

    @classmethod
    def of(cls, request: ReadRequest) -> ReadStart:
        """The start of ``request``'s whole read: every site-wide read and the scope, no space yet."""
        listed = bool(request.selectors or request.unmanaged)
        return cls(keys=request.keys, only=request.only, list_all=listed, model=request.model,
                   model_source=request.model_source, spaces=False, listed=request.listed)

    def fits(self, request: ReadRequest) -> bool:
        """Whether ``request`` can finish this start: the same ``--space`` and the same way of listing
        spaces. Keys may differ: the finish reads the keys the start did not know and drops the others."""
        return (self.only == request.only and self.listed == request.listed
                and self.list_all == bool(request.selectors or request.unmanaged))


class StartedRead(Protocol):
    """A read whose start part ran (``SplitRead.read_start``)."""

    failure: Exception | None  # what the start part failed with, kept for ``finish`` to raise

    def finish(self, request: ReadRequest, progress: Progress | None = None) -> LiveState:
        """The live state of ``request``, all or nothing: the model check, the spaces the start did not
        read, names and accounts; a failure of the start is raised here. Spaces the start read that
        ``request`` does not name are dropped."""
        ...


@runtime_checkable
class FinishAhead(Protocol):
    """An optional part of a ``SplitRead``: begin a read's finish while its start part still reads, once
    the policy loaded (``flows/overlap.py``): convert the spaces read so far and those read after with the
    request's labels, and (``look_up_accounts``) look the request's accounts up; the finish then does only
    what is left. A failure here is not kept: the finish does that part again and raises its own."""

    def finish_ahead(self, request: ReadRequest, *, look_up_accounts: bool) -> None: ...


@runtime_checkable
class SplitRead(Protocol):
    """An optional part of a ``Backend``: a read in two parts, so the first can run while the policy loads
    (``flows/overlap.py``). A backend without it is read in one go after the policy loaded."""

    def read_start(
        self, start: ReadStart, progress: Progress | None = None, *, stop: Callable[[], bool] | None = None,
        spaces_begun: Callable[[], None] | None = None,
    ) -> StartedRead:
        """Read what ``start`` names; only the role mode's own failure raises here, any later one is
        kept for ``finish``. ``stop``: asked between reads; when it says so, the start ends early.
        ``spaces_begun``: called when the per-space reads start, the site-wide reads they need answered
        (maybe more than once; maybe with no space to read; not at all when the start ends before)."""
        ...


@dataclass(frozen=True, slots=True)
class RoleEntry:
    """One entry of a role-assignment write: ``role_id`` None removes the principal's assignment."""

    principal: Principal
    principal_id: str  # accountId, group id, or access class id
    role_id: str | None


@dataclass(frozen=True, slots=True)
class Subject:
    """A legacy permission subject: ``user`` (accountId, or ``anonymous``) or ``group`` (group id)."""

    type: str
    identifier: str


@dataclass(frozen=True, slots=True)
class SiteUser:
    account_id: str
    display_name: str
    guest: bool = False


class SiteWriter(Protocol):
    """Single writes with ids resolved. Raises ``ApiError`` subclasses; never retries after sending."""

    def create_role(self, role: RoleDef) -> str:
        """Create a custom role; return its id."""
        ...

    def update_role(self, role_id: str, role: RoleDef) -> None: ...

    def delete_role(self, role_id: str) -> None: ...

    def set_role_assignments(self, space: SpaceInfo, entries: Sequence[RoleEntry]) -> int:
        """Set a space's assignments (as few requests as the API allows); return the requests made."""
        ...

    def add_permission(self, space: SpaceInfo, subject: Subject, permission: str) -> int:
        """Add one legacy permission; return its new id."""
        ...

    def delete_permission(self, space: SpaceInfo, permission_id: int) -> None: ...


@runtime_checkable
class DeclarativePermissions(Protocol):
    """An optional part of a ``SiteWriter``: a backend whose API sets a subject's whole permission set in
    one call (Data Center's POST …/permissions) offers this, and apply uses it for spaces under exact
    authority instead of one ``add_permission``/``delete_permission`` per permission."""

    def set_permissions(self, space: SpaceInfo, desired: Mapping[Principal, frozenset[str]]) -> int:
        """Each principal ends with exactly its set (empty: none); others untouched. Returns the requests."""
        ...


@runtime_checkable
class SpaceLister(Protocol):
    """An optional part of a ``Backend``: the site's space list (key, id, type, status) in as few calls as
    the API allows, for ``plan --changed-since`` to resolve a defaults selector against the site. A backend
    without it makes such a plan read the whole policy. What it returns may be handed back to ``read`` in
    ``ReadRequest.listed``."""

    def list_spaces(self) -> Sequence[SpaceInfo]: ...


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """One data security change as a writer takes it: ``new`` (desired; None: delete) and ``existing``
    (live, as the plan saw it; None: create); never both None."""

    new: DataSecurityPolicy | None
    existing: DataSecurityPolicy | None

    def __post_init__(self) -> None:
        if self.new is None and self.existing is None:
            raise ValueError("a data security step needs a new or an existing policy")

    @property
    def policy(self) -> DataSecurityPolicy:
        """The policy this step is about: the new one, or for a deletion the existing one."""
        if self.new is not None:
            return self.new
        if self.existing is None:  # excluded by __post_init__
            raise ValueError("a data security step needs a new or an existing policy")
        return self.existing


class DataSecurityWriter(Protocol):
    """Applies every data security change of one rule (through the org's draft -> publish lifecycle)."""

    writes: int  # requests that wrote

    def apply_rule(self, rule: DsRule, steps: Sequence[PolicyStep]) -> list[str | None]:
        """One result per step: None when done and verified, else why it failed."""
        ...


class OrgDataSecurity(Protocol):
    """The org's data security policies (an optional part of a backend)."""

    def read(self) -> OrgPolicies:
        """Every data security policy of the org that is not deleted, with the spaces it covers."""
        ...

    def writer(self, progress: Progress | None = None) -> DataSecurityWriter:
        """The writer of the org's changes (``progress``: its steps, e.g. drafts and publish)."""
        ...


class Backend(Protocol):
    """One site, opened once per command (read-only for plan, drift and import)."""

    @property
    def writer(self) -> SiteWriter: ...

    def read(self, request: ReadRequest, progress: Progress | None = None) -> LiveState: ...

    def on_wait(self, waiting: Callable[[float, str], None] | None) -> None:
        """Say each wait before a retry (seconds, why), e.g. to the progress display."""
        ...

    def read_roles(self) -> Mapping[str, LiveRole]: ...

    def read_users(self, account_ids: Sequence[str]) -> dict[str, SiteUser]:
        """Display name and guest flag of each account the site knows (others are left out)."""
        ...

    def current_account(self) -> str | None:
        """The account the backend runs as, when the site says."""
        ...

    def read_group_members(
        self, groups: Mapping[str, str], progress: Progress | None = None
    ) -> dict[str, GroupMembers]:
        """Group name -> its members, for every group in ``groups`` (name -> id), all or nothing; a group
        the site does not know comes back ``missing``."""
        ...

    def data_security(self, org_id: str, known_ids: Mapping[str, str]) -> OrgDataSecurity | None:
        """The org's data security policies, or None when the backend has no such thing (``known_ids``:
        space key -> id already read, to save look-ups)."""
        ...

    def map_spaces(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(item) for item in items]``, side by side within the backend's concurrency bound."""
        ...

    def close(self) -> None: ...
