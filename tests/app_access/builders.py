"""Small builders of desired and live states for the app access tests (no policy files needed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.model import (
    AppAccess,
    AppAccessRule,
    AppBlockMode,
    AppPolicy,
    Authority,
    DesiredSpace,
    DesiredState,
    LiveState,
    Person,
    Principal,
    PrincipalKind,
    RoleMode,
    SafetySettings,
    SiteModel,
    SiteSettings,
    Source,
)

ORG_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
APP_FILE = "policies/app-access.yaml"


def rule(
    name: str,
    spaces: Iterable[str] = (),
    *,
    mode: AppBlockMode = AppBlockMode.ALL,
    apps: Sequence[str] = (),
    line: int = 5,
) -> AppAccessRule:
    return AppAccessRule(name, mode, tuple(apps), tuple(spaces), Source(APP_FILE, line, 7))


def space(key: str, *, blocked: bool = False) -> DesiredSpace:
    source = Source(f"policies/spaces/{key}.yaml", 3, 3)
    return DesiredSpace(key, Authority.EXACT, (), (), blocked, (), source)


def desired(
    rules: Sequence[AppAccessRule] = (),
    *,
    blocked: Iterable[str] = (),
    spaces: Iterable[str] = (),
    people: Sequence[Person] = (),
    app_access: bool = True,
) -> DesiredState:
    declared = {key: space(key) for key in spaces}
    declared.update({key: space(key, blocked=True) for key in blocked})
    actor = Principal(PrincipalKind.USER, "712020:actor", label="svc-reconciler")
    return DesiredState(
        site=SiteSettings("sandbox:demo", SiteModel.AUTO, 10, actor, Authority.ADDITIVE),
        safety=SafetySettings(),
        people={p.handle: p for p in people},
        roles={},
        defaults=(),
        spaces=declared,
        app_access=AppAccess(ORG_ID, tuple(rules)) if app_access else None,
        guest_max_role="Viewer",
        drift_ignore=(),
        digest="0" * 64,
    )


def live(policies: Sequence[AppPolicy] | None = ()) -> LiveState:
    return LiveState(
        mode=RoleMode.ROLES,
        roles={},
        permissions=frozenset(),
        spaces={},
        group_ids={},
        app_policies=None if policies is None else tuple(policies),
    )


def policy(
    name: str,
    spaces: Iterable[str],
    *,
    mode: AppBlockMode = AppBlockMode.ALL,
    apps: Sequence[str] = (),
    coverage: str = "CONTAINER",
    id: str | None = None,  # noqa: A002 - the field's name
) -> AppPolicy:
    return AppPolicy(name, mode, tuple(apps), tuple(sorted(spaces)), coverage, id=id or f"pol-{name}")


def keys(count: int, prefix: str = "S") -> list[str]:
    return [f"{prefix}{n:02d}" for n in range(1, count + 1)]
