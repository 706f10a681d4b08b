"""How every flow reads a policy's site: the ``ReadRequest`` a policy makes, and the org's data security.

Plan, apply and drift read through these, so they see the site the same way (and a plan's fingerprint is
the one apply's re-read computes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from reconciler.backend import Backend, Progress, ReadRequest
from reconciler.errors import ApiError, AuthError, UsageError
from reconciler.flows.connect import Connection
from reconciler.guest_limit import GuestRead
from reconciler.live_state import LiveRole, LiveState, SpaceInfo
from reconciler.model import DesiredState, Principal, PrincipalKind

ADMIN_KEY = "ATLASSIAN_ADMIN_API_KEY"
SKIP_VARIABLE = "RECONCILER_SKIP_DATA_SECURITY"  # also --skip-data-security (plan, apply, drift)
SKIP_FLAG = "--skip-data-security"
NO_ORG_ID = "data security needs data_security.org_id in the policy (the Admin API organisation id)"
NOTE_NO_KEY = "data security not {verb}: set " + ADMIN_KEY + " to include it"
NOTE_SCOPED = "data security not {verb}: a --space plan leaves the org-wide controls out"
NOTE_SKIPPED = "data security not {verb}: left out by " + SKIP_FLAG + " (" + SKIP_VARIABLE + ")"
ADMIN_DOWN = ("; data security cannot be read: the Admin API is down or disabled (its policy operations are "
              "deprecated upstream and may be temporarily disabled); run again later, or leave data security "
              "out with " + SKIP_FLAG)
ADMIN_REFUSED = ("; data security cannot be read; check " + ADMIN_KEY + ", or leave data security out with "
                 + SKIP_FLAG)


def request_for(
    desired: DesiredState, *, only: Sequence[str] = (), missing_ok: bool = False, unmanaged: bool = False,
    guests: bool = True, listed: Sequence[SpaceInfo] = (),
) -> ReadRequest:
    """What to read for ``desired``: its spaces and selectors (or ``only``), its site model, and the
    principals it names (people's handles as labels, the groups whose ids writes need). ``guests``: also
    the guests of groups given more than ``guests.max_role`` (plan and apply's guest check). ``listed``: the
    site's spaces as this run already listed them (``SpaceLister``), so the read does not ask again."""
    return ReadRequest(
        keys=frozenset(desired.spaces),
        selectors=tuple(rule.selector for rule in desired.defaults),
        only=tuple(only),
        missing_ok=missing_ok,
        unmanaged=unmanaged,
        model=desired.site.model,
        model_source=desired.site.source,
        people={person.account_id: handle for handle, person in desired.people.items()},
        groups=frozenset(_referenced_groups(desired)),
        accounts=frozenset(_policy_accounts(desired)),
        guests=GuestRead.of(desired) if guests else None,
        listed=tuple(listed),
    )


def _policy_accounts(desired: DesiredState) -> set[str]:
    """Every account id the policy names (people, user principals, protected), to look up."""
    principals: list[Principal] = [*desired.safety.protected]
    for space in desired.spaces.values():
        principals += [a.principal for a in space.assignments] + [g.principal for g in space.grants]
    for rule in desired.defaults:
        principals += [a.principal for a in rule.assignments]
    named = {p.id for p in principals if p.kind is PrincipalKind.USER and p.id not in ("-", "anonymous")}
    return named | {person.account_id for person in desired.people.values()}


def _referenced_groups(desired: DesiredState) -> set[str]:
    principals: list[Principal] = [*desired.safety.protected]
    for space in desired.spaces.values():
        principals += [a.principal for a in space.assignments] + [g.principal for g in space.grants]
    for rule in desired.defaults:
        principals += [a.principal for a in rule.assignments]
    return {p.id for p in principals if p.kind is PrincipalKind.GROUP}


def app_policy_notes(
    desired: DesiredState,
    connection: Connection,
    scope: Sequence[str] = (),
    *,
    verb: str = "planned",
    skip: bool = False,
) -> tuple[str, ...]:
    """Why the org's data security policies are left out (``verb``: "planned", or "checked" for drift);
    empty when they are read.

    They are read for a whole-policy plan with a data_security section, on a sandbox site or with an Admin
    API key, unless ``skip`` (``--skip-data-security``) or ``RECONCILER_SKIP_DATA_SECURITY`` leaves them out.
    """
    if desired.data_security is None:
        return ()
    if skip or (connection.env.get(SKIP_VARIABLE) or "").strip() not in ("", "0"):
        return (NOTE_SKIPPED.format(verb=verb),)
    if scope:
        return (NOTE_SCOPED.format(verb=verb),)
    if not connection.admin_reachable(desired.site.url):
        return (NOTE_NO_KEY.format(verb=verb),)
    return ()


def with_app_policies(
    backend: Backend, desired: DesiredState, live: LiveState, progress: Progress | None = None
) -> LiveState:
    """``live`` with the org's data security policies read through the Admin API (a failed read raises,
    naming the call and ``--skip-data-security``)."""
    if progress:
        progress("reading the org's data security policies")
    ids = {info.key: info.id for info in live.unmanaged}
    ids.update({key: space.info.id for key, space in live.spaces.items()})
    org = backend.data_security(org_id(desired), ids)
    if org is None:
        return live
    try:
        policies = org.read()
    except ApiError as err:
        hint = ADMIN_REFUSED if isinstance(err, AuthError) else ADMIN_DOWN
        raise type(err)(err.method, err.path, err.status, f"{err.detail}{hint}") from None
    return dataclasses.replace(live, data_security=policies)


def org_id(desired: DesiredState) -> str:
    """The Admin API organisation of the policy's data security section."""
    if desired.data_security is None or not desired.data_security.org_id:
        raise UsageError(NO_ORG_ID)
    return desired.data_security.org_id


class PolicyReader:
    """apply's ``Reader`` for one policy: a re-read is the plan's read (app policies with a whole scope)."""

    def __init__(
        self, backend: Backend, desired: DesiredState, *, app_policies: bool, progress: Progress | None = None
    ) -> None:
        self._backend = backend
        self._desired = desired
        self._app_policies = app_policies
        self._progress = progress

    def read(self, spaces: Sequence[str]) -> LiveState:
        live = self._backend.read(request_for(self._desired, only=tuple(spaces)), self._progress)
        if not spaces and self._app_policies:
            live = with_app_policies(self._backend, self._desired, live)
        return live

    def read_roles(self) -> Mapping[str, LiveRole]:
        return self._backend.read_roles()
