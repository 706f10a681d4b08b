"""``reconciler plan``: load the policy, read the site read-only, diff, check safety.

``run_plan`` = load_policy -> (``--changed-since``: the scope, with the site's space list when a changed
defaults selector needs it) -> open the site read-only -> read the policy's spaces -> (the org's data
security policies, when the policy has a data_security section and the run does not leave it out) ->
build_plan (the changes and their safety assessment, in one pass). Observation is all-or-nothing: any
failed read raises, and there is no plan (a failed Admin API read is one line naming the call and the flag
that leaves data security out).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.backend import Backend, Progress, SpaceLister
from reconciler.flows.connect import Connection
from reconciler.flows.live import app_policy_notes, request_for, with_app_policies
from reconciler.flows.overlap import ReadAhead
from reconciler.live_state import LiveState, SpaceInfo
from reconciler.model import DesiredState

if TYPE_CHECKING:  # imported where used: nothing before the first request that the read does not need
    from reconciler.plan.plan import Plan
    from reconciler.policy.changed import ChangedScope

SCOPE_NOTES = ("planned ", "defaults rule ")  # how every note of _changed_scope starts, and no other note
NOT_READ = "not read"  # mode and fingerprint of a --changed-since plan that reached no space


def run_plan(
    policy_dir: Path | str,
    connection: Connection,
    *,
    spaces: Sequence[str] = (),
    skip_data_security: bool = False,
    changed_since: str | None = None,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[DesiredState, LiveState | None, Plan]:
    """Plan the policy in ``policy_dir`` against the live site (``spaces``: only these space keys).

    Never writes: the site is opened read-only, so any request other than GET raises before it is sent.
    ``changed_since``: a git ref; only the spaces whose effective policy differs between the policy at that
    ref and the working tree are planned (the whole policy when site-wide settings changed), and the plan
    says which; a changed defaults selector that can match undeclared spaces is resolved against the site's
    space list, which the read then reuses. When no space changed, no space is read (live state None; at
    most the space list was) and the plan is empty. ``meanwhile``: run once the policy loaded while the
    site is still being read (``ReadAhead.finish``), e.g. importing what the caller needs after the plan.
    """
    with loaded_objects_frozen() as freeze:
        return _run_plan(policy_dir, connection, spaces=spaces, skip_data_security=skip_data_security,
                         changed_since=changed_since, progress=progress, meanwhile=meanwhile, freeze=freeze)


def _run_plan(
    policy_dir: Path | str,
    connection: Connection,
    *,
    spaces: Sequence[str],
    skip_data_security: bool,
    changed_since: str | None,
    progress: Progress | None,
    meanwhile: Callable[[], None] | None,
    freeze: Callable[[], None],
) -> tuple[DesiredState, LiveState | None, Plan]:
    if progress:
        progress("loading the policy")
    scope = tuple(dict.fromkeys(spaces))
    # --changed-since: the scope needs the whole policy, so the site is read after it loaded
    ahead = ReadAhead(connection, only=scope, progress=progress) if changed_since is None else None
    try:
        desired = _load(policy_dir, ahead, progress, freeze)
        extra: tuple[str, ...] = ()
        listed: Sequence[SpaceInfo] = ()
        if changed_since is not None:
            changed = _changed(policy_dir, desired, changed_since)
            if changed.needs_site:
                changed, listed = _listed(_open(desired, connection, progress), changed, progress)
            scope, extra = _changed_scope(desired, changed, listed, changed_since, scope)
            if not scope and not extra[0].startswith("planned the whole policy"):
                return desired, None, _nothing_planned(desired, connection, extra)
        request = request_for(desired, only=scope, listed=listed)
        # first: its thread opened the site
        live = ahead.finish(desired, request, meanwhile=meanwhile) if ahead is not None else None
    except BaseException:  # a policy error, Ctrl-C anywhere before the read-ahead finished
        if ahead is not None:
            ahead.abandon(wait=False)  # nothing more is read for this run (a no-op once it finished)
        raise
    site = _open(desired, connection, progress)
    if live is None:
        live = site.read(request, progress)
    app_notes = app_policy_notes(desired, connection, scope, skip=skip_data_security)
    notes = extra + app_notes
    if desired.data_security is not None and not app_notes:
        live = with_app_policies(site, desired, live, progress)
    if progress:
        progress("planning")
    return desired, live, plan_from_live(desired, live, connection, scope=scope, notes=notes)


def _load(policy_dir: Path | str, ahead: ReadAhead | None, progress: Progress | None,
          freeze: Callable[[], None]) -> DesiredState:
    """The policy; with ``ahead``, the site's read starts once the files outside spaces/ are read. A
    policy that does not load stops that read and drops it (the policy's problem is the error shown).
    What the load made is frozen (``freeze``) before the collector is on again."""
    from reconciler.policy.loader import load_policy  # noqa: PLC0415 - keeps `plan --help` light

    began = time.monotonic()
    try:
        with collector_paused():
            desired = load_policy(policy_dir, on_outline=ahead)
            freeze()
    except KeyboardInterrupt:
        if ahead is not None:
            ahead.abandon(wait=False)  # Ctrl-C: exit now, without waiting for the reads
        raise
    except BaseException:
        if ahead is not None:
            ahead.abandon()
        raise
    note = getattr(progress, "note", None)  # the read's phases are on the display: say when the load ended
    if ahead is not None and ahead.running and note is not None:
        note("loaded the policy", time.monotonic() - began)
    return desired


def plan_from_live(
    desired: DesiredState,
    live: LiveState,
    connection: Connection,
    *,
    scope: Sequence[str] = (),
    notes: tuple[str, ...] = (),
) -> Plan:
    """The plan of ``live`` as every command shows it, born complete: the site's display URL, the changes
    and their safety assessment (findings and notes, in one pass), then ``notes``. ``reconciler apply
    POLICY_DIR`` plans through this too, so a plan it prints is the plan ``reconciler plan`` would print."""
    from reconciler.plan.diff import build_plan  # noqa: PLC0415 - after the read (docs/performance.md)

    with existing_objects_frozen():
        return build_plan(desired, live, scope=scope, site=connection.display_url(desired.site.url),
                          notes=notes)


def scope_notes(notes: Sequence[str]) -> tuple[str, ...]:
    """The notes a ``--changed-since`` plan says its scope in (``_changed_scope``): apply keeps them on the
    plan it recomputes for a saved plan, since they come from git, not from the policy or the site."""
    return tuple(note for note in notes if note.startswith(SCOPE_NOTES))


def _open(desired: DesiredState, connection: Connection, progress: Progress | None) -> Backend:
    """The policy's site, read-only (the connection opens it once per run)."""
    site = connection.open(desired.site.url, read_only=True, platform=desired.site.platform,
                           jsonrpc=desired.site.allow_jsonrpc, detect=desired.site.platform_auto)
    site.on_wait(getattr(progress, "waiting", None))
    return site


def _changed(policy_dir: Path | str, desired: DesiredState, ref: str) -> ChangedScope:
    """What differs between the policy at ``ref`` and ``desired`` (pure but for git and the loader)."""
    from reconciler.errors import PolicyError  # noqa: PLC0415
    from reconciler.policy.at_ref import policy_at_ref  # noqa: PLC0415
    from reconciler.policy.changed import ChangedScope, changed_scope  # noqa: PLC0415
    from reconciler.policy.loader import load_policy  # noqa: PLC0415

    with policy_at_ref(policy_dir, ref) as before_dir:
        if before_dir is None:
            return ChangedScope(whole=f"{policy_dir} does not exist at {ref}")
        try:
            return changed_scope(load_policy(before_dir), desired)
        except PolicyError:
            return ChangedScope(whole=f"the policy at {ref} does not load")


def _listed(
    site: Backend, changed: ChangedScope, progress: Progress | None
) -> tuple[ChangedScope, Sequence[SpaceInfo]]:
    """The site's space list, to resolve ``changed``'s defaults selectors; a backend that cannot list its
    spaces makes the plan whole (and says why)."""
    from reconciler.policy.changed import ChangedScope  # noqa: PLC0415

    if not isinstance(site, SpaceLister):
        first = changed.reach[0].rule if changed.reach else ""
        what = f"defaults rule {first!r}" if first else f"the spaces: entry of {changed.left[0]}"
        return ChangedScope(whole=f"{what} changed and this site's backend cannot list its spaces to resolve "
                            "the defaults selectors"), ()
    if progress:
        progress("listing the site's spaces (defaults selectors that changed)")
    return changed, site.list_spaces()


def _changed_scope(
    desired: DesiredState, changed: ChangedScope, listed: Sequence[SpaceInfo], ref: str,
    spaces: tuple[str, ...],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The scope of ``plan --changed-since REF`` (narrowed further by ``--space``) and the notes saying it:
    the spaces planned, then what each changed defaults rule reached on the site."""
    from reconciler.policy.changed import resolve_scope  # noqa: PLC0415

    safe_ref = ref.replace("\n", " ")
    if changed.whole:
        return spaces, (f"planned the whole policy: {changed.whole} since {safe_ref}",)
    resolved = resolve_scope(changed, desired, listed)
    reached = tuple(f"defaults rule {reach.rule!r} {reach.why}: {_n(len(keys))} matching {reach.describe()}"
                    for reach, keys in resolved.reached)
    keys = tuple(k for k in resolved.keys if not spaces or k in spaces)
    if not keys:
        return (), (f"planned 0 spaces: no space's effective policy changed since {safe_ref}", *reached)
    return keys, (f"planned {_n(len(keys))} changed since {safe_ref}: " + ", ".join(keys), *reached)


def _n(count: int) -> str:
    return f"{count} space{'s' if count != 1 else ''}"


def _nothing_planned(desired: DesiredState, connection: Connection, notes: tuple[str, ...]) -> Plan:
    """The empty plan of a change that reaches no space: the site is not read."""
    from reconciler.plan.plan import Plan  # noqa: PLC0415

    return Plan(site=connection.display_url(desired.site.url), mode=NOT_READ, policy_digest=desired.digest,
                fingerprint=NOT_READ, spaces=(), changes=(), notes=notes)


def nothing_planned(plan: Plan) -> bool:
    """A plan of ``--changed-since`` whose change reached no space: the site was not read, nothing to do."""
    return plan.fingerprint == NOT_READ and not plan.changes and not plan.spaces


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the policy loads: everything the loader makes lives on (the
    policy), so each collection walked a growing heap and found nothing, holding the GIL for tens of
    milliseconds at a time while the site's read waited on it (docs/performance.md). Reference counting
    still frees what is dropped; the collector is on again afterwards (if it was before)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def loaded_objects_frozen() -> Iterator[Callable[[], None]]:
    """Yields ``freeze``: called once the policy loaded, it keeps the cyclic garbage collector off every
    object that exists then (the policy, which lives as long as the run) while the site is read. Without
    it, the first collections after the load walked the whole policy while the site was still being read:
    46 ms, then 35 ms, then a full collection of 95 ms at 1,000 spaces, each holding the GIL the reader
    threads needed (docs/performance.md). Everything frozen is handed back (``gc.unfreeze``) once the plan
    is built (``existing_objects_frozen`` does it for the plan's own objects too), or here when the run
    ends before that, so a long-running caller's collector can still free it, and the few cycles the load
    left (the collector was paused) with it."""
    frozen = False

    def freeze() -> None:
        nonlocal frozen
        gc.freeze()
        frozen = True

    try:
        yield freeze
    finally:
        if frozen:
            gc.unfreeze()


@contextmanager
def existing_objects_frozen() -> Iterator[None]:
    """Keep the cyclic garbage collector off the objects that exist now (the policy, the live state) while
    the plan is built: a diff of 200,000 changes allocates enough to trigger many collections, and each
    walked every loaded object (0.3 s of 1.6 s; docs/performance.md). They are handed back afterwards
    (``gc.unfreeze``), so a long-running caller still frees them."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
