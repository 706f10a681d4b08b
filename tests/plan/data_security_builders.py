"""Small builders of desired and live states for the data security tests (no policy files needed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from reconciler.live_state import LiveState
from reconciler.model import (
    ALL_APPS,
    CONTAINER,
    ORG,
    Authority,
    DataSecurity,
    DataSecurityPolicy,
    DesiredSpace,
    DesiredState,
    DsRule,
    Effect,
    OrgControl,
    OrgPolicies,
    Person,
    Principal,
    PrincipalKind,
    Source,
    SpaceControl,
    UnreadPolicy,
)
from tests.kit.state import desired_state, live_state

ORG_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ORG_FILE = "policies/data-security.yaml"
AI = "ari:cloud:ecosystem::app/5d3c6b2e-ai-writer"
BLOCK, ALLOW = Effect.BLOCK, Effect.ALLOW


def subject_of(rule: DsRule) -> str:
    return ALL_APPS if rule is DsRule.APP_ACCESS else ""


def space(key: str, controls: Mapping[DsRule | tuple[DsRule, str], Effect] | None = None) -> DesiredSpace:
    file = f"policies/spaces/{key}.yaml"
    declared = []
    for line, (what, effect) in enumerate((controls or {}).items(), start=10):
        rule, subject = what if isinstance(what, tuple) else (what, subject_of(what))
        declared.append(SpaceControl(rule, effect, Source(file, line, 7), subject))
    return DesiredSpace(key, Authority.EXACT, (), (), tuple(declared), (), Source(file, 3, 3))


def desired(
    defaults: Mapping[DsRule | tuple[DsRule, str], Effect] | None = None,
    spaces: Iterable[DesiredSpace] = (),
    *,
    people: Sequence[Person] = (),
    data_security: bool = True,
) -> DesiredState:
    org = []
    for line, (what, effect) in enumerate((defaults or {}).items(), start=8):
        rule, subject = what if isinstance(what, tuple) else (what, subject_of(what))
        org.append(OrgControl(rule, effect, Source(ORG_FILE, line, 5), subject))
    actor = Principal(PrincipalKind.USER, "712020:actor", label="svc-reconciler")
    return desired_state(
        url="sandbox:demo",
        actor=actor,
        default_authority=Authority.ADDITIVE,
        people={p.handle: p for p in people},
        spaces={s.key: s for s in spaces},
        data_security=DataSecurity(ORG_ID, tuple(org), Source(ORG_FILE, 5, 1)) if data_security else None,
        guest_max_role="Viewer",
    )


def live(
    policies: Sequence[DataSecurityPolicy] | None = (), unread: Sequence[UnreadPolicy] = ()
) -> LiveState:
    return live_state(
        roles={},
        data_security=None if policies is None else OrgPolicies(tuple(policies), tuple(unread)),
    )


def org_policy(
    rule: DsRule, effect: Effect, *, subject: str | None = None, pid: str = "", status: str = "published"
) -> DataSecurityPolicy:
    subject = subject_of(rule) if subject is None else subject
    return DataSecurityPolicy(
        rule, effect, ORG, subject, (), f"{rule.value} default", status, pid or f"org-{rule.value}-{subject}"
    )


def override(
    rule: DsRule,
    effect: Effect,
    spaces: Iterable[str],
    *,
    subject: str | None = None,
    pid: str = "",
    status: str = "published",
    coverage: str = CONTAINER,
) -> DataSecurityPolicy:
    subject = subject_of(rule) if subject is None else subject
    return DataSecurityPolicy(
        rule,
        effect,
        coverage,
        subject,
        tuple(sorted(spaces)),
        f"{rule.value} override",
        status,
        pid or f"ovr-{rule.value}-{subject}",
    )
