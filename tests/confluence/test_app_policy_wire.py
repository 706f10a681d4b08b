"""The wire module writes the cookbook's JSON and reads what it does not understand as "not understood"."""

from __future__ import annotations

import jsonschema

from reconciler.confluence import app_policy_wire as wire
from reconciler.model import ALL_APPS, CONTAINER, ORG, DataSecurityPolicy, DsRule, Effect, UnreadPolicy
from tests.confluence.admin_control_schema import POLICY_REQUEST, RESOURCE_REQUEST

COOKBOOK_SAMPLE = {
    "data": {
        "type": "policy",
        "attributes": {
            "type": "data-security",
            "name": "Org-wide default export",
            "status": "draft",
            "metadata": {"policyCoverageLevel": "ORG"},
            "rule": {"export": {"effect": "allow"}},
        },
    }
}


def test_an_org_default_is_written_exactly_as_the_cookbook_sample() -> None:
    policy = DataSecurityPolicy(DsRule.EXPORT, Effect.ALLOW, ORG)
    assert wire.policy_body(policy, "Org-wide default export") == COOKBOOK_SAMPLE


def test_every_rule_and_level_the_tool_writes_validates_against_the_published_schema() -> None:
    for rule in DsRule:
        for level in (ORG, CONTAINER):
            subject = ALL_APPS if rule is DsRule.APP_ACCESS else ""
            body = wire.policy_body(DataSecurityPolicy(rule, Effect.BLOCK, level, subject, ("ENG",)), "n")
            jsonschema.validate(body, POLICY_REQUEST)
    jsonschema.validate(wire.resource_body(wire.space_ari("c", "1")), RESOURCE_REQUEST)


def test_app_access_names_its_subject_inside_the_rule() -> None:
    app = "ari:cloud:ecosystem::app/abc"
    body = wire.policy_body(DataSecurityPolicy(DsRule.APP_ACCESS, Effect.BLOCK, CONTAINER, app), "n")
    assert body["data"]["attributes"]["rule"] == {"appAccess": {"effect": "block", "subjectId": app}}


def test_a_read_policy_round_trips_through_the_wire_shape() -> None:
    policy = DataSecurityPolicy(
        DsRule.APP_ACCESS, Effect.BLOCK, CONTAINER, ALL_APPS, name="n", status="draft", id="p-1"
    )
    item = {"id": "p-1", **wire.policy_body(policy, "n")["data"]}
    assert wire.read_policy(item) == policy


def test_shapes_the_tool_does_not_understand_are_unread_with_the_key_path() -> None:
    older = {
        "id": "p-2",
        "type": "policy",
        "attributes": {
            "name": "test policy",
            "status": "enabled",
            "metadata": {"policyCoverageLevel": "CLASSIFICATION"},
            "rule": {"export": {"blockPageExport": True}, "publicLinks": {"block": True}},
        },
    }
    assert wire.read_policy(older) == UnreadPolicy(
        "p-2", "test policy", ("export", "publicLinks"), "holds 2 rules; the tool manages one rule per policy"
    )
    no_subject = {
        "id": "p-3",
        "attributes": {
            "name": "a",
            "metadata": {"policyCoverageLevel": "ORG"},
            "rule": {"appAccess": {"effect": "block"}},
        },
    }
    assert wire.read_policy(no_subject) == UnreadPolicy(
        "p-3", "a", ("appAccess",), "no attributes.rule.appAccess.subjectId"
    )
    guessed_place = {
        "id": "p-4",
        "attributes": {
            "name": "b",
            "policyCoverageLevel": "CONTAINER",
            "rule": {"export": {"effect": "block"}},
        },
    }
    assert wire.read_policy(guessed_place) == UnreadPolicy(
        "p-4", "b", ("export",), "no attributes.metadata.policyCoverageLevel"
    )


def test_key_paths_list_every_field_for_comparing_a_real_org() -> None:
    assert wire.key_paths(COOKBOOK_SAMPLE) == [
        "data.attributes.metadata.policyCoverageLevel",
        "data.attributes.name",
        "data.attributes.rule.export.effect",
        "data.attributes.status",
        "data.attributes.type",
        "data.type",
    ]


def test_space_aris_parse_back_and_others_do_not() -> None:
    assert wire.parse_space_ari(wire.space_ari("cloud-1", "98305")) == ("cloud-1", "98305")
    assert wire.parse_space_ari("ari:cloud:jira:cloud-1:project/1") is None


def test_the_key_path_report_confirms_guesses_a_real_org_shows_and_names_the_rest() -> None:
    app = {"id": "p-1", "type": "policy", "attributes": {
        "name": "n", "status": "published", "metadata": {"policyCoverageLevel": "ORG"},
        "rule": {"appAccess": {"effect": "block", "subject": {"id": "all_apps"}}}}}  # subjectId elsewhere
    report = wire.key_path_report([COOKBOOK_SAMPLE["data"] | {"id": "p-0"}, app])
    assert report["not_seen"] == ["attributes.rule.appAccess.subjectId"]
    assert "attributes.rule.appAccess.subject.id" in report["seen"]
    assert "attributes.rule.<rule>.effect" in report["confirmed"]
    assert all("all_apps" not in path for path in report["seen"])  # shapes only, never values


def test_any_status_but_draft_deleted_or_disabled_reads_as_enforced() -> None:
    def status_of(raw: str) -> str:
        body = wire.policy_body(DataSecurityPolicy(DsRule.EXPORT, Effect.BLOCK, ORG), "n")
        item = {"id": "p", **body["data"]}
        item["attributes"] = {**item["attributes"], "status": raw}
        parsed = wire.read_policy(item)
        assert isinstance(parsed, DataSecurityPolicy)
        return parsed.status

    assert [status_of(s) for s in ("draft", "deleted", "disabled", "enabled", "published", "ACTIVE")] == [
        "draft", "deleted", "disabled", "published", "published", "published"]
