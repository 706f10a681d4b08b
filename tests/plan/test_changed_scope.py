"""``changed_scope`` + ``resolve_scope``: the spaces a policy change reaches, resolved against the site's
space list (globs, space types, excludes), and the property that matters: a scoped plan never misses a
change the whole plan would make in a space whose effective policy differs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.live_state import LiveSpace, SpaceInfo
from reconciler.model import (
    Authority,
    DefaultRule,
    DesiredAssignment,
    DesiredSpace,
    DesiredState,
    Principal,
    RoleDef,
    Source,
    SpaceSelector,
)
from reconciler.plan.diff import build_plan
from reconciler.policy.changed import ChangedScope, Reach, changed_scope, resolve_scope, semantic
from reconciler.policy.resolve import effective_space
from tests.kit.state import desired_state, live_state

SRC = Source("policies/defaults.yaml", 3)


def rule(name: str, keys: Sequence[str], assign: Mapping[str, str | None], *, exclude: Sequence[str] = (),
         types: Sequence[str] = ()) -> DefaultRule:
    selector = SpaceSelector(tuple(keys), tuple(exclude), tuple(types))
    return DefaultRule(name, selector, tuple(DesiredAssignment(Principal.parse_ref(ref), role, SRC)
                                             for ref, role in assign.items()), SRC)


def entry(key: str, assign: Mapping[str, str | None], authority: Authority = Authority.EXACT) -> DesiredSpace:
    return DesiredSpace(key, authority, tuple(DesiredAssignment(Principal.parse_ref(ref), role, SRC)
                                              for ref, role in assign.items()), (), (), (),
                        Source(f"policies/spaces/{key}.yaml", 2))


def policy(*rules: DefaultRule, spaces: Sequence[DesiredSpace] = (),
           roles: Mapping[str, RoleDef] | None = None) -> DesiredState:
    return desired_state(defaults=tuple(rules), spaces={s.key: s for s in spaces}, roles=dict(roles or {}))


def site(*spaces: str) -> list[SpaceInfo]:
    """``KEY`` (global, current), ``KEY:personal``, ``KEY:global:archived``."""
    infos = []
    for text in spaces:
        key, _, rest = text.partition(":")
        kind, _, status = rest.partition(":")
        infos.append(SpaceInfo(key, f"id-{key}", key, kind or "global", status or "current"))
    return infos


SITE = site("ENG", "ENG-API", "ENG-WEB", "ENG-OLD", "ENG-ARCH:global:archived", "OPS", "~alice:personal",
            "~bob:personal", "HR")


# ------------------------------------------------------------------------------------------ examples


def test_a_changed_glob_rule_reaches_the_sites_spaces_it_matches_with_its_excludes() -> None:
    before = policy(rule("eng", ["ENG-*"], {"group:eng": "Viewer"}, exclude=["ENG-OLD"]),
                    spaces=[entry("HR", {"group:hr": "Admin"})])
    after = policy(rule("eng", ["ENG-*"], {"group:eng": "Collaborator"}, exclude=["ENG-OLD"]),
                   spaces=[entry("HR", {"group:hr": "Admin"})])
    changed = changed_scope(before, after)
    assert changed == ChangedScope(reach=(Reach("eng", "changed", (before.defaults[0].selector,)),))
    resolved = resolve_scope(changed, after, SITE)
    # ENG-OLD is excluded, ENG-ARCH is archived (a selector never manages it), ENG does not match ENG-*
    assert resolved.keys == ("ENG-API", "ENG-WEB")
    assert [(r.rule, keys) for r, keys in resolved.reached] == [("eng", ("ENG-API", "ENG-WEB"))]


def test_a_selector_changed_reaches_what_either_side_matches() -> None:
    before = policy(rule("eng", ["ENG-*"], {"group:eng": "Viewer"}))
    after = policy(rule("eng", ["ENG-*"], {"group:eng": "Viewer"}, exclude=["ENG-W*"]),
                   rule("ops", ["OPS"], {"group:ops": "Viewer"}))
    changed = changed_scope(before, after)
    assert [r.describe() for r in changed.reach] == ["ENG-* or ENG-* except ENG-W*", "OPS"]
    # ENG-WEB left the rule and nothing else manages it now: a plan does not touch it (nor did the whole)
    assert resolve_scope(changed, after, SITE).keys == ("ENG-API", "ENG-OLD", "OPS")


def test_a_type_selector_reaches_only_spaces_of_that_type() -> None:
    before = policy(rule("personal", ["*"], {"group:staff": None}, types=["personal"]))
    after = policy(rule("personal", ["*"], {"group:staff": "Viewer"}, types=["personal"]))
    changed = changed_scope(before, after)
    assert [r.describe() for r in changed.reach] == ["* (personal)"]
    assert resolve_scope(changed, after, SITE).keys == ("~alice", "~bob")


def test_a_declared_key_with_a_type_needs_the_site_and_an_unlisted_declared_key_is_kept() -> None:
    """HR is declared: its type decides. ARCH is declared but the list (current spaces) does not show it:
    it is planned, since its type is unknown and one space too many is safe."""
    spaces = [entry("HR", {}), entry("ARCH", {})]
    before = policy(rule("hr", ["HR", "ARCH"], {"group:hr": "Viewer"}, types=["personal"]), spaces=spaces)
    after = policy(rule("hr", ["HR", "ARCH"], {"group:hr": "Admin"}, types=["personal"]), spaces=spaces)
    changed = changed_scope(before, after)
    assert len(changed.reach) == 1
    assert resolve_scope(changed, after, SITE).keys == ("ARCH",)


def test_a_literal_rule_over_declared_keys_stays_offline() -> None:
    spaces = [entry("HR", {}), entry("OPS", {})]
    before = policy(rule("two", ["HR", "OPS"], {"group:a": "Viewer"}, exclude=["OPS"]), spaces=spaces)
    after = policy(rule("two", ["HR", "OPS"], {"group:a": "Admin"}, exclude=["OPS"]), spaces=spaces)
    changed = changed_scope(before, after)
    assert changed == ChangedScope(keys=("HR",))
    assert not changed.needs_site


def test_a_rule_that_moved_reaches_its_spaces_since_a_later_rule_wins() -> None:
    first = rule("first", ["ENG*"], {"group:eng": "Viewer"})
    second = rule("second", ["OPS"], {"group:eng": "Admin"})
    third = rule("third", ["HR"], {"group:hr": "Viewer"})
    changed = changed_scope(policy(first, second, third), policy(second, first, third))
    assert [(r.rule, r.why) for r in changed.reach] == [("first", "moved"), ("second", "moved")]


def test_a_rule_assigning_a_changed_role_reaches_its_spaces() -> None:
    roles_before = {"Auditor": RoleDef("Auditor", "", frozenset({"read/space"}))}
    roles_after = {"Auditor": RoleDef("Auditor", "", frozenset({"read/space", "export/space"}))}
    audit = rule("audit", ["ENG-*"], {"group:audit": "Auditor"})
    changed = changed_scope(policy(audit, roles=roles_before), policy(audit, roles=roles_after))
    assert [(r.rule, r.why) for r in changed.reach] == [("audit", "assigns changed role 'Auditor'")]


def test_an_entry_that_went_while_a_glob_still_manages_the_space_is_planned() -> None:
    glob = rule("all", ["*"], {"group:staff": "Viewer"}, exclude=["~*"])
    before = policy(glob, spaces=[entry("OPS", {"group:ops": "Admin"}), entry("~alice", {})])
    after = policy(glob)
    changed = changed_scope(before, after)
    assert changed == ChangedScope(left=("OPS",))  # ~alice: no rule of the new policy can match it
    assert resolve_scope(changed, after, SITE).keys == ("OPS",)


def test_a_changed_role_nothing_assigns_is_the_whole_policy_since_only_a_whole_plan_plans_it() -> None:
    audit = rule("audit", ["ENG-*"], {"group:audit": "Viewer"})
    before = policy(audit)
    after = policy(audit, roles={"Auditor": RoleDef("Auditor", "", frozenset({"read/space"}))})
    assert changed_scope(before, after).whole == (
        "custom role 'Auditor' changed and nothing in the policy assigns it (a scoped plan plans only the "
        "roles its spaces assign)")


def test_site_wide_settings_are_still_the_whole_policy() -> None:
    before = policy(rule("eng", ["ENG-*"], {"group:eng": "Viewer"}))
    after = desired_state(defaults=(), guest_max_role="Viewer")
    assert changed_scope(before, after).whole == "guest max role changed"


# ------------------------------------------------------------------------------------------ the property

KEYS = ("A1", "A2", "AB", "B1", "BX", "C", "~a", "~b")
PATTERNS = ("*", "A*", "B?", "A1", "C", "~*", "Z9", "[AB]1")
PRINCIPALS = ("group:g1", "group:g1", "group:g2", "group:g3")  # g1 often: rules that overlap
ROLES = ("Viewer", "Collaborator", "Admin", "Auditor", None)
TYPES = ("global", "personal", "collaboration")

sites = st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(TYPES),
                           st.sampled_from(("current", "current", "archived"))),
                 unique_by=lambda t: t[0], min_size=1).map(
    lambda rows: [SpaceInfo(k, f"id-{k}", k, t, s) for k, t, s in rows])
assignments = st.dictionaries(st.sampled_from(PRINCIPALS), st.sampled_from(ROLES), max_size=2)
selectors = st.builds(
    lambda keys, exclude, types: SpaceSelector(tuple(keys), tuple(exclude), tuple(types)),
    st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(PATTERNS), max_size=1),
    st.lists(st.sampled_from(TYPES), max_size=2, unique=True))
rules_of = st.lists(
    st.builds(lambda name, sel, assign: DefaultRule(name, sel, tuple(
        DesiredAssignment(Principal.parse_ref(r), role, SRC) for r, role in assign.items()), SRC),
        st.sampled_from(("r1", "r2", "r3")), selectors, assignments),
    max_size=3, unique_by=lambda r: r.name)
entries_of = st.dictionaries(st.sampled_from(KEYS), st.tuples(st.sampled_from(Authority), assignments),
                             max_size=3)
auditor = st.sampled_from((frozenset({"read/space"}), frozenset({"read/space", "create/page"})))


@st.composite
def change(draw: st.DrawFn) -> tuple[DesiredState, DesiredState]:
    """A policy and a change of it: each part kept or drawn again, rule order sometimes shuffled."""
    def one() -> tuple[list[DefaultRule], dict[str, tuple[Authority, dict[str, str | None]]], frozenset[str]]:
        return draw(rules_of), draw(entries_of), draw(auditor)

    base = one()
    other = one()
    picked = tuple(draw(st.sampled_from((b, o))) for b, o in zip(base, other, strict=True))
    rules_after = list(picked[0])
    if draw(st.booleans()):  # the same rules in another order
        rules_after = draw(st.permutations(base[0]))

    def build(rules: list[DefaultRule], entries: Mapping[str, tuple[Authority, dict[str, str | None]]],
              perms: frozenset[str]) -> DesiredState:
        return policy(*rules, spaces=[entry(k, a, auth) for k, (auth, a) in sorted(entries.items())],
                      roles={"Auditor": RoleDef("Auditor", "", perms)})

    return build(*base), build(rules_after, picked[1], picked[2])


def _live(infos: Sequence[SpaceInfo], wanted: set[str]) -> dict[str, LiveSpace]:
    """Every space of the site holds g1 as Viewer and g2 as Admin."""
    return {i.key: LiveSpace(i, {Principal.parse_ref("group:g1"): "Viewer",
                                 Principal.parse_ref("group:g2"): "Admin"}, {})
            for i in infos if i.key in wanted}


def _space_changes(
    desired: DesiredState, spaces: Mapping[str, LiveSpace], scope: Sequence[str] = ()
) -> set[str]:
    live = live_state(*spaces.values(), group_ids={g: g for g in ("g1", "g2", "g3")})
    plan = build_plan(desired, live, scope=scope)
    return {repr(c) for c in plan.changes if getattr(c, "space", None)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(change(), sites, st.booleans())
def test_a_scoped_plan_never_misses_a_change_the_whole_plan_makes_in_a_space_that_changed(
    policies: tuple[DesiredState, DesiredState], infos: list[SpaceInfo], every_status: bool
) -> None:
    """For random policies and sites: the resolved scope holds every space whose effective policy differs,
    and the scoped plan's changes are the whole plan's changes in those spaces. ``every_status``: the list
    shows archived spaces too (Data Center) or current ones only (Cloud)."""
    before, after = policies
    declared = set(after.spaces)
    infos = [i for i in infos if i.key in declared or i.status == "current" or every_status] + [
        i for i in infos if i.key in declared and i.status != "current" and not every_status]
    on_site = {i.key for i in infos}
    after = policy(*after.defaults, spaces=[s for k, s in after.spaces.items() if k in on_site],
                   roles=after.roles)  # a declared space the site lacks fails any plan; not this test's case
    before = policy(*before.defaults, spaces=[s for k, s in before.spaces.items() if k in on_site],
                    roles=before.roles)
    changed = changed_scope(before, after)
    if changed.whole:
        return
    listing = [i for i in infos if every_status or i.status == "current"]
    resolved = resolve_scope(changed, after, listing)
    managed = {i.key for i in infos if i.key in after.spaces
               or (i.status == "current" and any(r.selector.matches(i.key, i.type) for r in after.defaults))}
    differs = {i.key for i in infos if i.key in managed
               and semantic(effective_space(before, i)) != semantic(effective_space(after, i))}
    assert differs <= set(resolved.keys)
    assert set(resolved.keys) <= managed | (declared & on_site)
    whole = _space_changes(after, _live(infos, managed))
    scoped = set()
    if resolved.keys:
        scoped = _space_changes(after, _live(infos, set(resolved.keys)), resolved.keys)
    in_scope = {c for c in whole if any(f"space='{k}'" in c for k in resolved.keys)}
    assert scoped == in_scope
    assert {c for c in whole if any(f"space='{k}'" in c for k in differs)} <= scoped
