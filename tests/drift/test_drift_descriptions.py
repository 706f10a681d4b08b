"""A custom role or a data security policy that drifted says what differs: which permissions or spaces the
site adds or lacks, which value it holds instead; never more, never less (hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from reconciler.drift.classify import detect_drift, role_drift
from reconciler.drift.findings import Remedy
from reconciler.live_state import LiveRole
from reconciler.model import CONTAINER, ORG, DataSecurityPolicy, DsRule, Effect, RoleDef, Source
from reconciler.plan.data_security import data_security_drift, describe_drift
from reconciler.report.drift_render import render_drift, render_markdown
from tests.plan import data_security_builders as ds

from .builders import desired, live, space

TODAY = date(2026, 11, 23)
PERMISSIONS = ("read/space", "create/page", "delete/page", "create/blogpost", "create/comment",
               "archive/page", "export/space", "administer/space")


def role_drift_report(site_role: LiveRole, policy_perms: frozenset[str], description: str = "") -> list[str]:
    policy = desired(space("ENG", {"group:engineering": "Collaborator"}), roles={"editor": policy_perms})
    policy = dataclasses.replace(
        policy, roles={"editor": dataclasses.replace(policy.roles["editor"], description=description)})
    site = live({"ENG": {"group:engineering": "Collaborator"}})
    site = dataclasses.replace(site, roles={**site.roles, "editor": site_role})
    return [i.detail for i in detect_drift(policy, site, today=TODAY).items]


def test_a_drifted_custom_role_names_the_permissions_the_site_adds_and_lacks_and_its_description() -> None:
    site_role = LiveRole("id-editor", "editor", "CUSTOM", "Edits everything",
                         frozenset({"read/space", "create/page", "delete/page"}))
    policy = frozenset({"read/space", "create/page", "create/blogpost"})
    assert role_drift_report(site_role, policy, "Edits pages") == [
        "custom role 'editor': the site adds delete/page, lacks create/blogpost; description differs",
    ]


def test_a_custom_role_whose_description_alone_drifted_is_adopted_by_its_description_line() -> None:
    perms = frozenset({"read/space"})
    policy = desired(space("ENG", {"group:engineering": "Collaborator"}), roles={"editor": perms})
    site = live({"ENG": {"group:engineering": "Collaborator"}})
    site = dataclasses.replace(site, roles={**site.roles, "editor": LiveRole(
        "id-editor", "editor", "CUSTOM", "Reads: #all", perms)})
    [item] = detect_drift(policy, site, today=TODAY).items
    assert item.detail == "custom role 'editor': description differs"
    assert item.adopt == Remedy("change role 'editor' at line 3 to", file="policies/roles.yaml",
                                where="roles.editor", yaml="description: 'Reads: #all'")


def test_a_data_security_policy_that_drifted_names_itself_the_spaces_and_the_effect() -> None:
    policy = ds.desired({DsRule.APP_ACCESS: ds.ALLOW},
                        [ds.space("HR", {DsRule.APP_ACCESS: ds.BLOCK}), ds.space("FIN")])
    hand_edited = dataclasses.replace(ds.override(DsRule.APP_ACCESS, ds.ALLOW, ["FIN", "HR"]),
                                      name="Block apps (1)")
    items = data_security_drift(policy, ds.live([ds.org_policy(DsRule.APP_ACCESS, ds.ALLOW), hand_edited]))
    assert [(i.kind, i.name, i.detail) for i in items] == [
        ("changed", "app_access (CONTAINER)",
         "policy 'Block apps (1)': the org also covers FIN; effect is allow, policy says block"),
    ]


def test_a_policy_name_from_the_org_is_escaped_in_every_drift_report() -> None:
    policy = ds.desired({DsRule.EXPORT: ds.ALLOW}, [ds.space("HR", {DsRule.EXPORT: ds.BLOCK})])
    hostile = "x|y\n::error::hi @team </details>\u202e"
    edited = dataclasses.replace(ds.override(DsRule.EXPORT, ds.BLOCK, ["FIN", "HR"]), name=hostile)
    report = detect_drift(policy, ds.live([ds.org_policy(DsRule.EXPORT, ds.ALLOW), edited]), today=TODAY)
    [item] = report.items
    assert item.detail == f"changed: policy '{hostile}': the org also covers FIN"
    markdown, text = render_markdown(report), render_drift(report, "text")
    assert ("policy 'x\\|y\\\\n::error::hi @&#8203;team &lt;/details>\\\\u202e': the org also covers FIN"
            in markdown)
    assert "policy 'x|y\\n::error::hi @team </details>\\u202e': the org also covers FIN" in text
    for out in (markdown, text):
        assert "\u202e" not in out
        assert "\n::error" not in out


# ----------------------------------------------------------------------------------------- properties

permission_sets = st.frozensets(st.sampled_from(PERMISSIONS))
descriptions = st.sampled_from(("", "Edits pages", "Edits pages "))


@given(permission_sets, permission_sets, descriptions, descriptions)
def test_a_role_description_is_empty_exactly_when_equal_and_names_every_permission_added_or_lacking(
    site_perms: frozenset[str], policy_perms: frozenset[str], site_text: str, policy_text: str
) -> None:
    text = role_drift(RoleDef("r", site_text, site_perms), RoleDef("r", policy_text, policy_perms,
                                                                   Source("policies/roles.yaml", 3)))
    assert (text == "") == (site_perms == policy_perms and site_text == policy_text)
    added, lacking = sorted(site_perms - policy_perms), sorted(policy_perms - site_perms)
    assert (f"adds {', '.join(added)}" in text) == bool(added)
    assert (f"lacks {', '.join(lacking)}" in text) == bool(lacking)
    assert ("description differs" in text) == (site_text != policy_text)


spaces = st.frozensets(st.sampled_from(("ENG", "FIN", "HR", "LEGAL", "OPS")))
policies = st.builds(
    DataSecurityPolicy,
    rule=st.sampled_from(list(DsRule)), effect=st.sampled_from(list(Effect)),
    coverage=st.sampled_from((ORG, CONTAINER)), subject=st.sampled_from(("", "all_apps")),
    spaces=spaces.map(lambda s: tuple(sorted(s))), name=st.text(max_size=5),
    id=st.text(min_size=1, max_size=3), source=st.none() | st.just(Source("policies/data-security.yaml", 8)),
)


@given(policies, policies)
def test_a_policy_description_is_empty_exactly_when_it_enforces_the_same_and_names_every_space(
    live_policy: DataSecurityPolicy, wanted: DataSecurityPolicy
) -> None:
    text = describe_drift(live_policy, wanted)
    same = (live_policy.rule, live_policy.effect, live_policy.coverage, live_policy.subject,
            set(live_policy.spaces)) == (wanted.rule, wanted.effect, wanted.coverage, wanted.subject,
                                         set(wanted.spaces))
    assert (text == "") == same  # the name, id and source are not what a policy enforces
    extra, lacking = sorted(set(live_policy.spaces) - set(wanted.spaces)), sorted(
        set(wanted.spaces) - set(live_policy.spaces))
    assert (f"also covers {', '.join(extra)}" in text) == bool(extra)
    assert (f"does not cover {', '.join(lacking)}" in text) == bool(lacking)
    effect = f"effect is {live_policy.effect.value}, policy says {wanted.effect.value}"
    assert (effect in text) == (live_policy.effect is not wanted.effect)


def test_a_custom_role_whose_permissions_and_description_drifted_is_adopted_by_both_lines() -> None:
    """Adopting the site's role takes both fields that differ, not the permissions alone (which would
    leave the description drifting on the next run)."""
    policy = desired(space("ENG", {"group:engineering": "Collaborator"}), roles={"editor": frozenset(
        {"read/space", "create/page"})})
    site = live({"ENG": {"group:engineering": "Collaborator"}})
    site = dataclasses.replace(site, roles={**site.roles, "editor": LiveRole(
        "id-editor", "editor", "CUSTOM", "Reads: #all", frozenset({"read/space"}))})
    report = detect_drift(policy, site, today=TODAY)
    [item] = report.items
    assert item.detail == "custom role 'editor': the site lacks create/page; description differs"
    both = "permissions: [read/space]\ndescription: 'Reads: #all'"
    assert item.adopt == Remedy("change role 'editor' at line 3 to", file="policies/roles.yaml",
                                where="roles.editor", yaml=both)
    assert ("change role 'editor' at line 3 to: `permissions: [read/space]` and `description: 'Reads: #all'`"
            in render_markdown(report))
    assert ("policies/roles.yaml: change role 'editor' at line 3 to: permissions: [read/space]; "
            "description: 'Reads: #all'" in render_drift(report, "text"))
